package selector

import (
	"errors"
	"fmt"
	"strings"
)

// ValidateKey checks a label key: an optional DNS subdomain prefix and a
// slash, then a name of at most 63 characters of [A-Za-z0-9._-] that starts
// and ends alphanumeric.
func ValidateKey(k string) error {
	name := k
	if i := strings.LastIndexByte(k, '/'); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if err := validateDNSSubdomain(prefix); err != nil {
			return fmt.Errorf("invalid label key %q: prefix %v", k, err)
		}
	}
	if name == "" {
		return fmt.Errorf("invalid label key %q: the name part is empty", k)
	}
	if err := validateName(name); err != nil {
		return fmt.Errorf("invalid label key %q: name %v", k, err)
	}
	return nil
}

// ValidateValue checks a label value: empty, or at most 63 characters of
// [A-Za-z0-9._-] starting and ending alphanumeric.
func ValidateValue(v string) error {
	if v == "" {
		return nil
	}
	if err := validateName(v); err != nil {
		return fmt.Errorf("invalid label value %q: %v", v, err)
	}
	return nil
}

func validateName(s string) error {
	if len(s) > 63 {
		return fmt.Errorf("is %d characters long, at most 63 allowed", len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isAlnum(c) && c != '-' && c != '_' && c != '.' {
			return errors.New("may hold only letters, digits, '-', '_' and '.'")
		}
	}
	if !isAlnum(s[0]) || !isAlnum(s[len(s)-1]) {
		return errors.New("must start and end with a letter or digit")
	}
	return nil
}

func validateDNSSubdomain(s string) error {
	if s == "" {
		return errors.New("is empty")
	}
	if len(s) > 253 {
		return fmt.Errorf("is %d characters long, at most 253 allowed", len(s))
	}
	for _, part := range strings.Split(s, ".") {
		if part == "" || len(part) > 63 {
			return errors.New("must be a DNS subdomain such as example.com")
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '-' {
				return errors.New("must be a lowercase DNS subdomain such as example.com")
			}
		}
		if part[0] == '-' || part[len(part)-1] == '-' {
			return errors.New("must be a DNS subdomain such as example.com")
		}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// The checks below reject malformed input with a 400 before it reaches the
// Backend, whose own errors about input are not typed. They follow the
// rules of SPEC section 2 and of package state.

// badf returns a *badRequest.
func badf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// checkJobRef validates a job's namespace and name: DNS labels, 1 to 63 of
// [a-z0-9-], starting and ending with a letter or digit.
func checkJobRef(ns, name string) error {
	if err := checkLabel("namespace", ns); err != nil {
		return err
	}
	return checkLabel("job name", name)
}

func checkLabel(what, s string) error {
	ok := len(s) > 0 && len(s) <= 63 && isLowerAlnum(s[0]) && isLowerAlnum(s[len(s)-1])
	for i := 0; ok && i < len(s); i++ {
		ok = isLowerAlnum(s[i]) || s[i] == '-'
	}
	if !ok {
		return badf("invalid %s %q: must be 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit", what, s)
	}
	return nil
}

// checkExecutionID validates an execution id: 1 to 128 of [A-Za-z0-9_-].
func checkExecutionID(id string) error {
	ok := len(id) > 0 && len(id) <= 128
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = isLowerAlnum(c) || c >= 'A' && c <= 'Z' || c == '-' || c == '_'
	}
	if !ok {
		return badf("invalid execution id %q: must be 1 to 128 letters, digits, '-' or '_'", id)
	}
	return nil
}

// checkHash validates a full spec or document hash: "sha256:" and 64
// lowercase hex digits, or the bare hex.
func checkHash(what, h string) error {
	hex := strings.TrimPrefix(h, schema.HashPrefix)
	if len(hex) != 64 || !isHex(hex) {
		return badf("invalid %s hash %q: want sha256: and 64 lowercase hex digits", what, h)
	}
	return nil
}

// checkPrefix validates a spec hash prefix for ResolveSpec.
func checkPrefix(p string) error {
	hex := strings.ToLower(strings.TrimPrefix(p, schema.HashPrefix))
	if !isHex(hex) || len(hex) > 64 {
		return badf("invalid spec hash %q: want hex digits, optionally after sha256:", p)
	}
	if len(hex) < state.MinPrefix {
		return badf("spec hash prefix %q is too short: give at least %d hex digits", p, state.MinPrefix)
	}
	return nil
}

// checkJobState validates a job state.
func checkJobState(s string) error {
	if !slices.Contains(state.JobStates, s) {
		return badf("invalid job state %q: want one of %s", s, strings.Join(state.JobStates, ", "))
	}
	return nil
}

// checkStream validates a log stream name; "" means stdout.
func checkStream(s string) (string, error) {
	switch s {
	case "":
		return "stdout", nil
	case "stdout", "stderr":
		return s, nil
	}
	return "", badf("invalid log stream %q: want stdout or stderr", s)
}

// parseOffset parses a log offset; "" means 0.
func parseOffset(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badf("invalid log offset %q: want a byte offset, 0 or more", s)
	}
	return n, nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// isHex reports whether s is non-empty lowercase hex.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return s != ""
}

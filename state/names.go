package state

import (
	"strings"

	"github.com/muster-dev/muster/schema"
)

// checkLabel reports whether s is a DNS label as job names and namespaces
// are (docs/spec.md section 2): 1 to 63 of [a-z0-9-], starting and ending
// alphanumeric. Such names are single KV key tokens.
func checkLabel(what, s string) error {
	ok := len(s) > 0 && len(s) <= 63 && isLowerAlnum(s[0]) && isLowerAlnum(s[len(s)-1])
	for i := 0; ok && i < len(s); i++ {
		ok = isLowerAlnum(s[i]) || s[i] == '-'
	}
	if !ok {
		return invalidf("invalid %s %q: must be 1 to 63 lowercase letters, digits or '-', starting and ending with a letter or digit", what, s)
	}
	return nil
}

// CheckJob validates a job's namespace and name (docs/spec.md section 2); the
// error matches ErrInvalid.
func CheckJob(ns, name string) error {
	if err := checkLabel("namespace", ns); err != nil {
		return err
	}
	return checkLabel("job name", name)
}

// checkToken validates an id used as one KV key token (execution ids): 1 to
// 128 of [A-Za-z0-9_-].
func checkToken(what, s string) error {
	ok := len(s) > 0 && len(s) <= 128
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = isAlnum(c) || c == '-' || c == '_'
	}
	if !ok {
		return invalidf("invalid %s %q: must be 1 to 128 letters, digits, '-' or '_'", what, s)
	}
	return nil
}

// CheckNamespace validates a namespace as CheckJob does.
func CheckNamespace(ns string) error { return checkLabel("namespace", ns) }

// CheckExecutionID validates an execution id: 1 to 128 of [A-Za-z0-9_-].
// The error matches ErrInvalid.
func CheckExecutionID(id string) error { return checkToken("execution id", id) }

// CheckHash validates the hash of a spec or document (what): "sha256:" and
// 64 lowercase hex digits, or the bare hex. The error matches ErrInvalid.
func CheckHash(what, hash string) error {
	hex := strings.TrimPrefix(hash, schema.HashPrefix)
	if len(hex) != hexLen || !isHex(hex) {
		return invalidf("invalid %s hash %q: want sha256: and 64 lowercase hex digits", what, hash)
	}
	return nil
}

// CheckNodeID validates a node id: 1 to 253 of [A-Za-z0-9._-], starting and
// ending with a letter or digit, with no empty part between dots (host names
// qualify). Node ids are KV keys.
func CheckNodeID(id string) error {
	ok := len(id) > 0 && len(id) <= 253 && isAlnum(id[0]) && isAlnum(id[len(id)-1]) && !strings.Contains(id, "..")
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		ok = isAlnum(c) || c == '-' || c == '_' || c == '.'
	}
	if !ok {
		return invalidf("invalid node id %q: must be 1 to 253 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, without '..'", id)
	}
	return nil
}

func isLowerAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isLowerAlnum(c) || c >= 'A' && c <= 'Z' }

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

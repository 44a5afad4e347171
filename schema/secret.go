package schema

import (
	"fmt"
	"sort"
	"strings"
)

// SecretRefPrefix starts a reference to a secret: "secret:<namespace>/<name>"
// as a task.env value or a task.inputs source. A spec holds the reference,
// never the value; the control plane hands the value to the agent running
// an execution.
const SecretRefPrefix = "secret:"

// SecretRef names a stored secret.
type SecretRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
}

// String is "namespace/name".
func (r SecretRef) String() string { return r.Namespace + "/" + r.Name }

// ParseSecretRef parses "secret:<namespace>/<name>"; ok is false when s is
// not a reference at all (no "secret:" prefix). The namespace is a DNS
// label of at most 63 characters, the name 1 to 128 letters, digits, '-'
// or '_'.
func ParseSecretRef(s string) (ref SecretRef, ok bool, err error) {
	rest, ok := strings.CutPrefix(s, SecretRefPrefix)
	if !ok {
		return SecretRef{}, false, nil
	}
	ns, name, found := strings.Cut(rest, "/")
	if !found || !isSecretNamespace(ns) || !IsSecretName(name) {
		return SecretRef{}, true, fmt.Errorf("%q is not a secret reference: want %s<namespace>/<name>, the name 1 to 128 letters, digits, '-' or '_'", s, SecretRefPrefix)
	}
	return SecretRef{Namespace: ns, Name: name}, true, nil
}

// IsSecretName reports whether name is 1 to 128 letters, digits, '-' or
// '_'.
func IsSecretName(name string) bool {
	ok := len(name) > 0 && len(name) <= 128
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	return ok
}

// isSecretNamespace reports whether ns is a namespace: a DNS label.
func isSecretNamespace(ns string) bool {
	ok := len(ns) > 0 && len(ns) <= 63 && ns[0] != '-' && ns[len(ns)-1] != '-'
	for i := 0; ok && i < len(ns); i++ {
		c := ns[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-'
	}
	return ok
}

// SecretRefs returns the secrets the task refers to (env values and input
// sources), sorted and without repeats; malformed references are left out.
func (t Task) SecretRefs() []SecretRef {
	seen := map[SecretRef]bool{}
	add := func(s string) {
		if ref, ok, err := ParseSecretRef(s); ok && err == nil {
			seen[ref] = true
		}
	}
	for _, v := range t.Env {
		add(v)
	}
	for _, in := range t.Inputs {
		add(in.Source)
	}
	out := make([]SecretRef, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

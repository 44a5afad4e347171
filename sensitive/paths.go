package sensitive

import (
	"slices"
	"strconv"
	"strings"
)

// keyed lists are lists of objects identified by one member: their elements
// are named by that member's value, so that adding one never shifts the
// others.
var keyed = map[string]string{"task.inputs": "target", "task.outputs": "path", "task.ports": "name"}

// sets are lists of strings whose order carries no meaning; the canonical
// form keeps them sorted.
var sets = map[string]bool{"selector.match_expressions": true, "selector.match_ids": true}

// KeyOf returns the member that identifies the elements of the keyed list
// at path ("target" for task.inputs), and whether path is a keyed list.
func KeyOf(path string) (string, bool) {
	k, ok := keyed[path]
	return k, ok
}

// IsSet reports whether the list at path is a set of strings, kept sorted
// in the canonical form (selector.match_expressions, selector.match_ids).
func IsSet(path string) bool { return sets[path] }

// Member appends a map key to a path, quoting keys that are not plain
// identifiers so that paths stay unambiguous: Member("labels", "team") is
// labels.team, Member("labels", "app.kubernetes.io/name") is
// labels["app.kubernetes.io/name"].
func Member(path, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			plain = false
			break
		}
	}
	if !plain {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// Index names element i of the ordered list or set at path: task.cmd[2].
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Element names the element of the keyed list at path whose key is key:
// task.inputs["/data"].
func Element(path, key string) string { return path + "[" + strconv.Quote(key) + "]" }

// Covers reports whether paths hide path: path, or a value that holds it,
// is one of paths.
func Covers(paths []string, path string) bool {
	for _, p := range paths {
		if under(path, p) {
			return true
		}
	}
	return false
}

// Holds reports whether the value at path holds a hidden value: one of
// paths is path or lies inside it, or covers it.
func Holds(paths []string, path string) bool {
	for _, p := range paths {
		if under(p, path) || under(path, p) {
			return true
		}
	}
	return false
}

// under reports whether path p is anc or lies inside the value anc names.
func under(p, anc string) bool {
	if anc == "" {
		return true
	}
	if !strings.HasPrefix(p, anc) {
		return false
	}
	return len(p) == len(anc) || p[len(anc)] == '.' || p[len(anc)] == '['
}

// Union returns the paths of every set, sorted, without duplicates and
// without paths that another one covers. It never returns nil.
func Union(sets ...[]string) []string {
	var all []string
	for _, s := range sets {
		all = append(all, s...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	out := make([]string, 0, len(all))
	for _, p := range all {
		covered := false
		for _, q := range all {
			if q != p && under(p, q) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

package sensitive

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
)

// Decode reads a JSON document (a canonical spec) as Hide, Values and
// Find read it: objects as map[string]any, numbers as json.Number, so that
// numbers keep their text.
func Decode(doc []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// HideValue returns v, the value at path of a decoded document, with every
// value that paths cover replaced by Marker: Marker itself when paths
// cover path, a copy of v when they cover something inside it, v itself
// otherwise. hidden says whether anything was replaced.
func HideValue(path string, v any, paths []string) (_ any, hidden bool) {
	if len(paths) == 0 || v == nil {
		return v, false
	}
	if Covers(paths, path) {
		return Marker, true
	}
	if !Holds(paths, path) {
		return v, false
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			h := false
			out[k], h = HideValue(Member(path, k), e, paths)
			hidden = hidden || h
		}
		return out, hidden
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			h := false
			out[i], h = HideValue(elementPath(path, i, e), e, paths)
			hidden = hidden || h
		}
		return out, hidden
	}
	return v, false
}

// elementPath names element i, e, of the list at path: by its key in a
// keyed list, by its index otherwise.
func elementPath(path string, i int, e any) string {
	if key, ok := keyed[path]; ok {
		if obj, ok := e.(map[string]any); ok {
			if k, ok := obj[key].(string); ok {
				return Element(path, k)
			}
		}
	}
	return Index(path, i)
}

// Hide returns the JSON document doc with the values at paths replaced by
// Marker, and whether any was. The result keeps the members in sorted
// order but is no longer the canonical form: its bytes do not hash to the
// spec's address. Without paths it returns doc itself.
func Hide(doc []byte, paths []string) ([]byte, bool, error) {
	if len(paths) == 0 {
		return doc, false, nil
	}
	v, err := Decode(doc)
	if err != nil {
		return nil, false, err
	}
	v, hidden := HideValue("", v, paths)
	if !hidden {
		return doc, false, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, false, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), true, nil
}

// Values returns the texts that the values at paths hold in the JSON
// document doc, longest first: strings as they are, numbers as written,
// the keys and values of maps, the elements of lists. Booleans and nulls
// are left out: hiding every "true" in a message would hide nothing.
func Values(doc []byte, paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, nil
	}
	v, err := Decode(doc)
	if err != nil {
		return nil, err
	}
	var out []string
	walk("", v, func(path string, v any) bool {
		if !Covers(paths, path) {
			return Holds(paths, path)
		}
		collect(v, &out)
		return false
	})
	slices.SortFunc(out, longestFirst)
	return slices.Compact(out), nil
}

// collect appends the texts v holds.
func collect(v any, out *[]string) {
	switch x := v.(type) {
	case string:
		if x != "" {
			*out = append(*out, x)
		}
	case json.Number:
		*out = append(*out, string(x))
	case map[string]any:
		for k, e := range x {
			if k != "" {
				*out = append(*out, k)
			}
			collect(e, out)
		}
	case []any:
		for _, e := range x {
			collect(e, out)
		}
	}
}

// Missing returns the paths that name no value of the JSON document doc,
// in the order given; nil when every path names one.
func Missing(doc []byte, paths []string) ([]string, error) {
	v, err := Decode(doc)
	if err != nil {
		return nil, err
	}
	found := map[string]bool{}
	walk("", v, func(path string, _ any) bool {
		for _, p := range paths {
			if p == path {
				found[p] = true
			}
		}
		return Holds(paths, path)
	})
	var missing []string
	for _, p := range paths {
		if !found[p] {
			missing = append(missing, p)
		}
	}
	return missing, nil
}

// walk calls fn for v, at path, and, while fn returns true, for the values
// inside it: map members in key order, list elements in order.
func walk(path string, v any, fn func(path string, v any) bool) {
	if !fn(path, v) {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walk(Member(path, k), x[k], fn)
		}
	case []any:
		for i, e := range x {
			walk(elementPath(path, i, e), e, fn)
		}
	}
}

// Check returns an error naming the paths that name no value of doc.
func Check(doc []byte, paths []string) error {
	missing, err := Missing(doc, paths)
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d sensitive paths name no value of the spec: %q", len(missing), missing)
	}
	return nil
}

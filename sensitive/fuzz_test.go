package sensitive

import (
	"slices"
	"strings"
	"testing"
)

// FuzzHide: for any JSON document and any path, Hide does not panic; when
// it hides something, the path holds only Marker; hiding again changes
// nothing; and Redact removes each of the path's values (of MinLength or
// more) from a message that shows it.
func FuzzHide(f *testing.F) {
	f.Add(spec, "task.env.DB_PASSWORD")
	f.Add(spec, `task.inputs["/data"].source`)
	f.Add(spec, "selector.match_expressions[1]")
	f.Add(spec, "labels")
	f.Add(`{"a":[{"target":"x"}],"b":{"":"y"}}`, `b[""]`)
	f.Add(`[1,2,{"k":"v"}]`, "[2].k")
	f.Fuzz(func(t *testing.T, doc, path string) {
		paths := []string{path}
		before, err := Values([]byte(doc), paths)
		if err != nil {
			return
		}
		hidden, did, err := Hide([]byte(doc), paths)
		if err != nil {
			t.Fatalf("Hide failed on a document Values read: %v", err)
		}
		if !did {
			if string(hidden) != doc {
				t.Fatalf("Hide hid nothing but changed the document")
			}
			return
		}
		after, err := Values(hidden, paths)
		if err != nil {
			t.Fatalf("Values of the hidden document: %v", err)
		}
		// A keyed list element hidden whole loses its key with it: its
		// path then names nothing.
		gone := len(after) == 0 && strings.HasSuffix(path, `"]`)
		if !slices.Equal(after, []string{Marker}) && !gone {
			t.Fatalf("after Hide the path holds %q, want only %q", after, Marker)
		}
		again, _, err := Hide(hidden, paths)
		if err != nil || string(again) != string(hidden) {
			t.Fatalf("hiding twice: %s, %v; want %s", again, err, hidden)
		}
		for _, v := range before {
			if len(v) >= MinLength && !strings.ContainsAny(v, "()") {
				if got := Redact("failed: "+v+".", before); strings.Contains(got, v) {
					t.Fatalf("Redact left %q in %q", v, got)
				}
			}
		}
	})
}

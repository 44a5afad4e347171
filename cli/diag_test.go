package cli

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

// TestSnippetShowsControlCharacters: the source line under a diagnostic
// shows a control character as one visible character, never raw, and the
// marker stays under the value.
func TestSnippetShowsControlCharacters(t *testing.T) {
	src := []byte("job \"a\" {\n  description = \"a\x1b[31mb\u009b\x07\"\n}\n")
	p := lang.Pos{Line: 2, Column: 17}
	d := lang.Diagnostic{Range: lang.Range{Filename: "a.hcl", Start: p, End: lang.Pos{Line: 2, Column: 28}}, Path: "description",
		Message: "description holds the control character U+001B (escape) at character 2"}
	var b strings.Builder
	writeText(&b, d, "a.hcl", src)
	got := b.String()
	if strings.ContainsFunc(got, func(r rune) bool { return r < 0x20 && r != '\n' || r >= 0x7f && r <= 0x9f }) {
		t.Fatalf("the snippet holds a raw control character: %q", got)
	}
	want := "a.hcl:2:17: error: description holds the control character U+001B (escape) at character 2 (description)\n" +
		"  2 |   description = \"a␛[31mb\uFFFD␇\"\n" +
		"    |                 ^^^^^^^^^^^\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

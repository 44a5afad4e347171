package lang

import "testing"

// TestDiagnosticEscapesControls: a message or path that quotes a hostile
// file prints its control characters as escapes, never raw.
func TestDiagnosticEscapesControls(t *testing.T) {
	p := Pos{Line: 2, Column: 3}
	d := Diagnostic{Range: Range{Filename: "f.yaml", Start: p, End: p}, Path: "meta.a\x1b[2J\nb\u009b",
		Message: "field a\x1b[2J\x07 is not allowed\n\tsee below\x00\x7f"}
	want := `f.yaml:2:3: error: field a\x1b[2J\x07 is not allowed` + "\n\t" + `see below\x00\x7f (meta.a\x1b[2J\x0ab\u009b)`
	if got := d.Error(); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	clean := Diagnostic{Range: Range{Filename: "f.yaml", Start: p, End: p}, Path: "labels.ключ", Message: "é — ✓"}
	if got := clean.Error(); got != "f.yaml:2:3: error: é — ✓ (labels.ключ)" {
		t.Errorf("a printable diagnostic changed: %s", got)
	}
}

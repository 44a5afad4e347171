package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Severity of a Diagnostic.
type Severity string

// The severities a Diagnostic can have.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Diagnostic is one problem found in a file, with the source range it is about
// and the field path it concerns ("task.resources.memory", "labels.env",
// "task.inputs[1].target"). Path is empty for syntax errors.
type Diagnostic struct {
	Severity Severity
	Range    Range
	Path     string
	Message  string
}

// Error formats d as `file:line:col: error: message (path)`. Control
// characters of the message (but tab and newline) and of the path are
// written as Go escapes (\x1b), so that a diagnostic quoting a hostile file
// cannot drive the terminal that shows it.
func (d Diagnostic) Error() string {
	var b strings.Builder
	b.WriteString(d.Range.String())
	b.WriteString(": ")
	b.WriteString(string(d.severity()))
	b.WriteString(": ")
	b.WriteString(escapeControls(d.Message, true))
	if d.Path != "" {
		b.WriteString(" (")
		b.WriteString(escapeControls(d.Path, false))
		b.WriteString(")")
	}
	return b.String()
}

// escapeControls writes the C0 control characters of s (save tab and
// newline when lines is true), DEL and the C1 controls as \xNN or \uNNNN.
func escapeControls(s string, lines bool) string {
	control := func(r rune) bool {
		return r < 0x20 && !(lines && (r == '\t' || r == '\n')) || r >= 0x7f && r <= 0x9f
	}
	if strings.IndexFunc(s, control) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !control(r):
			b.WriteRune(r)
		case r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}

func (d Diagnostic) severity() Severity {
	if d.Severity == "" {
		return Error
	}
	return d.Severity
}

// Diagnostics is a list of problems. The zero value is an empty list ready to
// use; Err returns nil when it holds no error.
type Diagnostics []Diagnostic

// Add appends an error diagnostic.
func (ds *Diagnostics) Add(r Range, path, format string, args ...any) {
	*ds = append(*ds, Diagnostic{Severity: Error, Range: r, Path: path, Message: fmt.Sprintf(format, args...)})
}

// HasErrors reports whether any diagnostic is an error (not a warning).
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.severity() == Error {
			return true
		}
	}
	return false
}

// Sort orders ds by file, line, column and then message, stably.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i].Range, ds[j].Range
		if a.Filename != b.Filename {
			return a.Filename < b.Filename
		}
		if a.Start.Line != b.Start.Line {
			return a.Start.Line < b.Start.Line
		}
		if a.Start.Column != b.Start.Column {
			return a.Start.Column < b.Start.Column
		}
		return ds[i].Path < ds[j].Path
	})
}

// Err returns ds as an error when it holds at least one error, else nil.
func (ds Diagnostics) Err() error {
	if !ds.HasErrors() {
		return nil
	}
	return ds
}

// Error joins the diagnostics one per line.
func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.Error()
	}
	return strings.Join(lines, "\n")
}

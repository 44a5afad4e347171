package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
)

// diagJSON is one diagnostic of `validate -o json` (docs/spec.md section 5).
type diagJSON struct {
	File      string `json:"file"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
	Severity  string `json:"severity"`
	Path      string `json:"path"`
	Message   string `json:"message"`
}

func toJSON(d lang.Diagnostic) diagJSON {
	end := d.Range.End
	if end.Line == 0 {
		end = d.Range.Start
	}
	sev := string(d.Severity)
	if sev == "" {
		sev = string(lang.Error)
	}
	return diagJSON{File: d.Range.Filename, Line: d.Range.Start.Line, Column: d.Range.Start.Column,
		EndLine: end.Line, EndColumn: end.Column, Severity: sev, Path: d.Path, Message: d.Message}
}

// writeText prints d as `file:line:col: error: message (path)` followed by
// the source line and a marker under the range. src is the source of file;
// a diagnostic about another file (a var file) reads that one.
func writeText(w io.Writer, d lang.Diagnostic, file string, src []byte) {
	fmt.Fprintln(w, d.Error())
	if d.Range.Filename != file {
		src = nil
		if b, err := os.ReadFile(d.Range.Filename); err == nil && len(b) <= 4<<20 {
			src = b
		}
	}
	line := sourceLine(src, d.Range.Start.Line)
	if line == "" || !utf8.ValidString(line) {
		return
	}
	gutter := strconv.Itoa(d.Range.Start.Line)
	pad := strings.Repeat(" ", len(gutter))
	expanded := strings.Map(printable, strings.ReplaceAll(line, "\t", "    "))
	fmt.Fprintf(w, "  %s | %s\n", gutter, expanded)
	col := d.Range.Start.Column
	if col < 1 {
		return
	}
	prefix := []rune(line)
	if col-1 > len(prefix) {
		col = len(prefix) + 1
	}
	indent := strings.ReplaceAll(string(prefix[:col-1]), "\t", "    ")
	width := 1
	if d.Range.End.Line == d.Range.Start.Line && d.Range.End.Column > col {
		width = d.Range.End.Column - col
	}
	if rest := len(prefix) - (col - 1); width > rest && rest > 0 {
		width = rest
	}
	fmt.Fprintf(w, "  %s | %s%s\n", pad, strings.Repeat(" ", utf8.RuneCountInString(indent)), strings.Repeat("^", width))
}

// printable shows a control character of a source line as one visible
// character (its control picture, such as ␛ for ESC, or U+FFFD for C1), so
// that a hostile file cannot drive the terminal through a snippet and the
// marker below the line stays in its column.
func printable(r rune) rune {
	switch {
	case r < 0x20:
		return 0x2400 + r
	case r == 0x7f:
		return 0x2421
	case r >= 0x80 && r <= 0x9f:
		return utf8.RuneError
	}
	return r
}

// sourceLine returns line n (1-based) of src without its newline, or "".
func sourceLine(src []byte, n int) string {
	if n < 1 || src == nil {
		return ""
	}
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	if len(src) > 300 {
		return ""
	}
	return strings.TrimRight(string(src), "\r")
}

// writeGitHub prints d as a GitHub Actions workflow annotation.
func writeGitHub(w io.Writer, d lang.Diagnostic) {
	j := toJSON(d)
	kind := "error"
	if j.Severity == string(lang.Warning) {
		kind = "warning"
	}
	props := []string{"file=" + ghProp(j.File)}
	if j.Line > 0 {
		props = append(props, "line="+strconv.Itoa(j.Line), "col="+strconv.Itoa(j.Column),
			"endLine="+strconv.Itoa(j.EndLine), "endColumn="+strconv.Itoa(j.EndColumn))
	}
	if j.Path != "" {
		props = append(props, "title="+ghProp(j.Path))
	}
	fmt.Fprintf(w, "::%s %s::%s\n", kind, strings.Join(props, ","), ghData(j.Message))
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

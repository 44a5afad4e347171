package lang

import "fmt"

// Pos is a position in a source file. Line and Column are 1-based; Column
// counts Unicode characters. Byte is the 0-based byte offset. The zero Pos
// means "unknown".
type Pos struct {
	Line   int
	Column int
	Byte   int
}

// Range is a half-open span of source text in one file. The zero Range means
// "no source" (for example a value filled in by a default).
type Range struct {
	Filename string
	Start    Pos
	End      Pos
}

// IsZero reports whether r carries no position.
func (r Range) IsZero() bool { return r.Start.Line == 0 }

// String formats r as file:line:col.
func (r Range) String() string {
	if r.IsZero() {
		return r.Filename
	}
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

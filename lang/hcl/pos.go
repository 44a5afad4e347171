package hcl

import (
	"sort"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"

	"github.com/muster-dev/muster/lang"
)

// positions converts HCL ranges of one file into lang ranges. HCL counts
// columns in grapheme clusters; lang counts Unicode characters, so columns
// are recounted from the source unless the file is plain ASCII (where both
// agree). For other files it indexes line starts and character counts once,
// so that each conversion costs O(log n) whatever the line lengths.
type positions struct {
	file  string
	src   []byte
	ascii bool

	indexed    bool
	lineStarts []int // byte offsets of line starts after the first
	chars      []int // chars[k]: characters in src[:k*block]
}

const block = 256

func newPositions(file string, src []byte) *positions {
	return &positions{file: file, src: src, ascii: isASCII(src)}
}

func isASCII(src []byte) bool {
	for _, c := range src {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func (p *positions) rng(r hcl.Range) lang.Range {
	return lang.Range{Filename: p.file, Start: p.pos(r.Start), End: p.pos(r.End)}
}

func (p *positions) pos(hp hcl.Pos) lang.Pos {
	out := lang.Pos{Line: hp.Line, Column: hp.Column, Byte: hp.Byte}
	if p.ascii || hp.Line == 0 || hp.Byte < 0 || hp.Byte > len(p.src) {
		return out
	}
	if !p.indexed {
		p.index()
	}
	b := hp.Byte
	i := sort.SearchInts(p.lineStarts, b+1) // line starts <= b
	start := 0
	if i > 0 {
		start = p.lineStarts[i-1]
	}
	out.Line = i + 1
	out.Column = p.charsBefore(b) - p.charsBefore(start) + 1
	return out
}

func (p *positions) index() {
	p.indexed = true
	n := 0
	p.chars = make([]int, 0, len(p.src)/block+1)
	for i, c := range p.src {
		if i%block == 0 {
			p.chars = append(p.chars, n)
		}
		if c&0xC0 != 0x80 {
			n++
		}
		if c == '\n' {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
}

// charsBefore counts the characters (bytes that start a UTF-8 sequence, or
// stray bytes) in src[:b].
func (p *positions) charsBefore(b int) int {
	k := b / block
	if k >= len(p.chars) {
		k = len(p.chars) - 1
	}
	if k < 0 {
		return 0
	}
	n := p.chars[k]
	for _, c := range p.src[k*block : b] {
		if c&0xC0 != 0x80 {
			n++
		}
	}
	return n
}

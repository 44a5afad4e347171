package compiler

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/muster-dev/muster/lang"
)

// The worker protocol: the parent writes one request, the worker answers
// with one response, and so on, over the worker's standard input and
// output. Both are a compact binary form (uvarints, length-prefixed
// strings) read and written without reflection: a response is decoded for
// every CUE or HCL file, so its cost counts. TestWireCarriesEveryField
// fails when a field is added to a type it carries.

// request asks a worker to parse one file.
type request struct {
	Format Format
	File   string
	Src    []byte
	Opts   lang.Options
	Limits Limits
}

// response is what the frontend returned.
type response struct {
	Trees []*lang.Value
	Diags lang.Diagnostics
}

// Budgets of a response, so that a file cannot make the parent build more
// than its worker was allowed to: as many values as a YAML document may
// expand to, and text that no job needs.
const (
	maxWireValues = 1 << 20
	maxWireText   = 64 << 20
)

// errWireBudget is returned when a response passes a budget.
var errWireBudget = errors.New("budget")

type wireWriter struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (e *wireWriter) uint(x uint64) {
	n := binary.PutUvarint(e.buf[:], x)
	e.w.Write(e.buf[:n])
}

func (e *wireWriter) int(x int) {
	n := binary.PutVarint(e.buf[:], int64(x))
	e.w.Write(e.buf[:n])
}

func (e *wireWriter) bool(b bool) {
	if b {
		e.w.WriteByte(1)
	} else {
		e.w.WriteByte(0)
	}
}

// length writes the length of a slice, telling nil from empty: 0 for nil,
// n+1 for n elements.
func (e *wireWriter) length(isNil bool, n int) {
	if isNil {
		e.uint(0)
		return
	}
	e.uint(uint64(n) + 1)
}

func (e *wireWriter) str(s string) {
	e.uint(uint64(len(s)))
	e.w.WriteString(s)
}

func (e *wireWriter) strs(m map[string]string) {
	e.uint(uint64(len(m)))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		e.str(k)
		e.str(m[k])
	}
}

func (e *wireWriter) pos(p lang.Pos) {
	e.int(p.Line)
	e.int(p.Column)
	e.int(p.Byte)
}

func (e *wireWriter) rng(r lang.Range) {
	e.str(r.Filename)
	e.pos(r.Start)
	e.pos(r.End)
}

// nilValue marks a nil *lang.Value in place of its Kind.
const nilValue = 0xff

func (e *wireWriter) value(v *lang.Value) {
	if v == nil {
		e.w.WriteByte(nilValue)
		return
	}
	e.w.WriteByte(byte(v.Kind))
	e.rng(v.Range)
	e.bool(v.Sensitive)
	e.bool(v.Bool)
	e.str(v.Number)
	e.str(v.Str)
	e.length(v.List == nil, len(v.List))
	for _, x := range v.List {
		e.value(x)
	}
	e.length(v.Fields == nil, len(v.Fields))
	for _, f := range v.Fields {
		e.bool(f != nil)
		if f != nil {
			e.str(f.Key)
			e.rng(f.KeyRange)
			e.value(f.Value)
		}
	}
}

// encodeRequest writes q to w's buffer.
func encodeRequest(w *bufio.Writer, q *request) {
	e := &wireWriter{w: w}
	e.str(string(q.Format))
	e.str(q.File)
	e.str(string(q.Src))
	e.strs(q.Opts.Env)
	e.uint(uint64(len(q.Opts.VarFiles)))
	for _, f := range q.Opts.VarFiles {
		e.str(f)
	}
	e.strs(q.Opts.Vars)
	e.int(int(q.Limits.Time))
	e.int(int(q.Limits.Memory))
}

func writeResponse(w *bufio.Writer, r *response) error {
	e := &wireWriter{w: w}
	e.length(r.Trees == nil, len(r.Trees))
	for _, t := range r.Trees {
		e.value(t)
	}
	e.length(r.Diags == nil, len(r.Diags))
	for _, d := range r.Diags {
		e.str(string(d.Severity))
		e.rng(d.Range)
		e.str(d.Path)
		e.str(d.Message)
	}
	return w.Flush()
}

// wireReader decodes what wireWriter wrote. The first error sticks; every
// read after it returns zero values.
type wireReader struct {
	r      *bufio.Reader
	err    error
	values int // values decoded so far
	text   int // bytes of strings decoded so far
	// budget enables maxWireValues and maxWireText.
	budget bool
}

func (d *wireReader) fail(err error) {
	if d.err == nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		d.err = err
	}
}

func (d *wireReader) uint() uint64 {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadUvarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return x
}

func (d *wireReader) int() int {
	if d.err != nil {
		return 0
	}
	x, err := binary.ReadVarint(d.r)
	if err != nil {
		d.fail(err)
	}
	return int(x)
}

func (d *wireReader) byte() byte {
	if d.err != nil {
		return 0
	}
	b, err := d.r.ReadByte()
	if err != nil {
		d.fail(err)
	}
	return b
}

func (d *wireReader) bool() bool { return d.byte() != 0 }

// count reads a number of elements.
func (d *wireReader) count() int {
	n := d.uint()
	if n > maxWireText {
		d.fail(fmt.Errorf("a list of %d elements", n))
		return 0
	}
	return int(n)
}

// length reads what wireWriter.length wrote: -1 for nil.
func (d *wireReader) length() int { return d.count() - 1 }

func (d *wireReader) str() string {
	n := d.uint()
	if d.err != nil || n == 0 {
		return ""
	}
	d.text += int(min(n, maxWireText+1))
	if n > maxWireText || d.budget && d.text > maxWireText {
		d.fail(errWireBudget)
		return ""
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(d.r, b); err != nil {
		d.fail(err)
		return ""
	}
	return string(b)
}

func (d *wireReader) strs() map[string]string {
	n := d.count()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

func (d *wireReader) pos() lang.Pos {
	return lang.Pos{Line: d.int(), Column: d.int(), Byte: d.int()}
}

func (d *wireReader) rng() lang.Range {
	return lang.Range{Filename: d.str(), Start: d.pos(), End: d.pos()}
}

func (d *wireReader) value(depth int) *lang.Value {
	k := d.byte()
	if d.err != nil || k == nilValue {
		return nil
	}
	if d.values++; d.budget && d.values > maxWireValues {
		d.fail(errWireBudget)
		return nil
	}
	if depth > maxWireDepth {
		d.fail(fmt.Errorf("values nested deeper than %d levels", maxWireDepth))
		return nil
	}
	v := &lang.Value{Kind: lang.Kind(k), Range: d.rng(), Sensitive: d.bool(), Bool: d.bool(), Number: d.str(), Str: d.str()}
	if n := d.length(); n >= 0 {
		v.List = make([]*lang.Value, 0, min(n, 1024))
		for range n {
			if d.err != nil {
				return nil
			}
			v.List = append(v.List, d.value(depth+1))
		}
	}
	if n := d.length(); n >= 0 {
		v.Fields = make([]*lang.Field, 0, min(n, 1024))
		for range n {
			if d.err != nil {
				return nil
			}
			if !d.bool() {
				v.Fields = append(v.Fields, nil)
				continue
			}
			v.Fields = append(v.Fields, &lang.Field{Key: d.str(), KeyRange: d.rng(), Value: d.value(depth + 1)})
		}
	}
	return v
}

// maxWireDepth bounds the nesting of decoded values: every frontend stops
// at 64 levels, the decoder at twice that.
const maxWireDepth = 128

func readRequest(r *bufio.Reader) (*request, error) {
	d := &wireReader{r: r}
	if _, err := r.Peek(1); err != nil {
		return nil, err // io.EOF: the parent is done
	}
	q := &request{Format: Format(d.str()), File: d.str(), Src: []byte(d.str())}
	q.Opts.Env = d.strs()
	if n := d.count(); n > 0 {
		for range n {
			q.Opts.VarFiles = append(q.Opts.VarFiles, d.str())
		}
	}
	q.Opts.Vars = d.strs()
	q.Limits.Time = time.Duration(d.int())
	q.Limits.Memory = int64(d.int())
	return q, d.err
}

// readResponse decodes a response within the budgets; errWireBudget says
// that a budget was passed.
func readResponse(r *bufio.Reader) (*response, error) {
	d := &wireReader{r: r, budget: true}
	resp := &response{}
	if n := d.length(); n >= 0 {
		resp.Trees = make([]*lang.Value, 0, min(n, 1024))
		for range n {
			if d.err != nil {
				break
			}
			resp.Trees = append(resp.Trees, d.value(0))
		}
	}
	if n := d.length(); n >= 0 {
		resp.Diags = make(lang.Diagnostics, 0, min(n, 1024))
		for range n {
			if d.err != nil {
				break
			}
			resp.Diags = append(resp.Diags, lang.Diagnostic{Severity: lang.Severity(d.str()), Range: d.rng(), Path: d.str(), Message: d.str()})
		}
	}
	return resp, d.err
}

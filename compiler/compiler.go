// Package compiler runs the stages of docs/spec.md sections 1 to 3 on one file: pick
// the frontend by format, parse into value trees, validate and normalize each
// job. Its result keeps the source so that callers can show snippets.
package compiler

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

// MaxFileSize bounds a job file. Real job files are a few kilobytes; a larger
// file is almost always a mistake (a binary or a generated dump).
const MaxFileSize = 4 << 20

// Job is one compiled job and where it was written.
type Job struct {
	Spec  *schema.Job
	Range lang.Range
	// Sensitive names the values of Spec that came from sensitive HCL
	// variables, as paths of its canonical spec in the syntax of plan
	// diffs (see package sensitive); nil when there are none.
	Sensitive []string
}

// Result is what compiling one file gives: its jobs that passed (all of them
// when Diags has no error) and every diagnostic.
type Result struct {
	File   string
	Format Format
	Source []byte
	Jobs   []Job
	Diags  lang.Diagnostics
}

// Compile parses src in format f and validates every job in it.
func Compile(filename string, src []byte, f Format, opts lang.Options) Result {
	res := Result{File: filename, Format: f, Source: src}
	if len(src) > MaxFileSize {
		p := lang.Pos{Line: 1, Column: 1}
		res.Diags.Add(lang.Range{Filename: filename, Start: p, End: p}, "",
			"the file is %s; job files are limited to %s", sizeText(len(src)), sizeText(MaxFileSize))
		return res
	}
	parse := parsers[f]
	if parse == nil {
		res.Diags.Add(lang.Range{Filename: filename}, "", "unsupported format %q", f)
		return res
	}
	trees, diags := evaluate(f, parse, filename, src, opts)
	res.Diags = diags
	if len(trees) == 0 && !diags.HasErrors() {
		p := lang.Pos{Line: 1, Column: 1}
		res.Diags = append(res.Diags, lang.Diagnostic{Severity: lang.Warning, Range: lang.Range{Filename: filename, Start: p, End: p},
			Message: "the file holds no job"})
	}
	for i, t := range trees {
		if holdsError(trees, i, diags) {
			// The frontend already found a problem inside this job (a
			// duplicate block, a bad variable): a tree it had to patch up
			// must not compile into a job that looks valid.
			continue
		}
		j, ds := validate.Job(t)
		res.Diags = append(res.Diags, ds...)
		if j != nil {
			paths, warnings := sensitivePaths(t, j)
			res.Diags = append(res.Diags, warnings...)
			res.Jobs = append(res.Jobs, Job{Spec: j, Range: jobRange(t, filename), Sensitive: paths})
		}
	}
	res.Diags.Sort()
	return res
}

// jobRange is where the job t is written: its range, or its name's where
// the frontend gives the job none (an element of a CUE jobs list).
func jobRange(t *lang.Value, filename string) lang.Range {
	r := t.Range
	if f := t.Get("name"); r.IsZero() && f != nil {
		r = f.KeyRange
	}
	if r.Filename == "" {
		r.Filename = filename
	}
	return r
}

// holdsError reports whether an error of diags lies inside trees[i], whose
// extent is its range or, when the frontend gave no end, reaches up to the
// next job.
func holdsError(trees []*lang.Value, i int, diags lang.Diagnostics) bool {
	if !diags.HasErrors() {
		return false
	}
	start, end := trees[i].Range.Start, trees[i].Range.End
	if end.Line == 0 || !before(start, end) {
		end = lang.Pos{Line: 1 << 30}
		if i+1 < len(trees) {
			end = trees[i+1].Range.Start
		}
	}
	for _, d := range diags {
		if d.Severity == lang.Warning || d.Range.Filename != trees[i].Range.Filename {
			continue
		}
		if p := d.Range.Start; !before(p, start) && before(p, end) {
			return true
		}
	}
	return false
}

// before reports whether a comes before b.
func before(a, b lang.Pos) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}

// CompileFile reads path (or standard input for "-", which needs a format)
// and compiles it. When f is empty the format comes from the extension.
func CompileFile(path string, f Format, opts lang.Options) Result {
	if f == "" {
		var ok bool
		if f, ok = FormatOf(path); !ok {
			res := Result{File: path}
			res.Diags.Add(lang.Range{Filename: path}, "", "unknown file type %q: use .yaml, .yml, .json, .hcl or .cue, or --format", filepath.Ext(path))
			return res
		}
	}
	src, err := ReadFile(path)
	if err != nil {
		res := Result{File: path, Format: f}
		res.Diags.Add(lang.Range{Filename: path}, "", "%v", err)
		return res
	}
	return Compile(path, src, f, opts)
}

// ReadFile reads a job file, or standard input for "-", refusing files
// larger than MaxFileSize without reading them whole.
func ReadFile(path string) ([]byte, error) {
	var r io.Reader = os.Stdin
	size := 512
	if path != "-" {
		file, err := os.Open(path)
		if err != nil {
			return nil, cleanErr(err)
		}
		defer file.Close()
		if info, err := file.Stat(); err == nil && info.Mode().IsRegular() {
			if info.Size() > MaxFileSize {
				return nil, fmt.Errorf("the file is larger than %s; job files are limited to that", sizeText(MaxFileSize))
			}
			size = int(info.Size()) + 1 // one read, and one more to see the end
		}
		r = file
	}
	src, err := readAll(io.LimitReader(r, MaxFileSize+1), size)
	if err != nil {
		return nil, cleanErr(err)
	}
	if len(src) > MaxFileSize {
		return nil, fmt.Errorf("the file is larger than %s; job files are limited to that", sizeText(MaxFileSize))
	}
	return src, nil
}

// readAll is io.ReadAll starting from a buffer of the expected size, so that
// a regular file is read in one system call instead of several.
func readAll(r io.Reader, size int) ([]byte, error) {
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

func cleanErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %v", pe.Op, pe.Err)
	}
	return err
}

func sizeText(n int) string {
	if n > MaxFileSize {
		return fmt.Sprintf("more than %s", sizeText(MaxFileSize))
	}
	if n >= 1<<20 {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(n)/(1<<20)), ".0") + " MiB"
	}
	return fmt.Sprintf("%d bytes", n)
}

package cue

import (
	"fmt"
	"strconv"
	"strings"

	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/token"

	"github.com/muster-dev/muster/lang"
)

// mapFields are the fields whose members are map keys, not field names: a
// numeric key there is a key, not a list index.
var mapFields = map[string]bool{"labels": true, "meta": true, "env": true, "match_labels": true}

// cuePath renders the path of a CUE error, less its first strip elements,
// as the validator does: "task.inputs[1].target". It stops at the first
// hidden field or definition (they are #Job's helpers or the user's, never
// job fields) and reports whether it did.
func cuePath(elems []string, strip int) (string, bool) {
	if len(elems) <= strip {
		return "", false
	}
	var b strings.Builder
	parent := ""
	for _, e := range elems[strip:] {
		if strings.HasPrefix(e, "_") || strings.HasPrefix(e, "#") {
			return b.String(), true
		}
		if s, err := strconv.Unquote(e); err == nil && strings.HasPrefix(e, `"`) {
			e = s
		}
		if isIndex(e) && !mapFields[parent] {
			b.WriteString("[" + e + "]")
		} else {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(e)
		}
		parent = e
	}
	return b.String(), false
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cueDiag is one CUE error made into a diagnostic, with what the merging
// of the error sources needs to know about it.
type cueDiag struct {
	lang.Diagnostic
	summary bool // an "N errors in empty disjunction" header
	// group is the path of the disjunction whose alternatives failed with
	// this error, or "": a problem explained at that path explains this.
	group   string
	inGroup bool
}

// covered reports whether a problem at one of paths explains d.
func (d *cueDiag) covered(paths []string) bool {
	if d.inGroup && relatedToAny(d.group, paths) {
		return true
	}
	return relatedToAny(d.Path, paths)
}

// convert turns the errors of err into diagnostics. strip is the number of
// leading path elements that lead to the job (such as ["jobs", "2"] or
// ["#Job"]); prefix is the index path of the job.
func (p *fileParser) convert(err error, strip int, prefix string) []cueDiag {
	if err == nil {
		return nil
	}
	list := errors.Errors(err)
	out := make([]cueDiag, 0, len(list))
	seen := map[string]bool{}
	for _, e := range list {
		path, _ := cuePath(e.Path(), strip)
		format, args := e.Msg()
		msg := fmt.Sprintf(format, args...)
		d := cueDiag{Diagnostic: lang.Diagnostic{Severity: lang.Error, Path: path}}
		var tagNote string
		for _, pos := range errors.Positions(e) {
			if !p.inFile(pos) {
				continue
			}
			if d.Range.IsZero() {
				d.Range = p.errRange(pos, join(prefix, path))
			}
			if v, ok := p.tagVars[pos]; ok && tagNote == "" {
				tagNote = " (variable " + v + ")"
			}
		}
		if d.Range.IsZero() {
			d.Range = p.nearest(join(prefix, path))
		}
		d.Message, d.summary = message(msg, path)
		d.Message += tagNote
		key := d.Range.String() + "\x00" + path + "\x00" + d.Message
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, d)
	}
	// The errors after a disjunction header that lie under its path are
	// why its alternatives failed.
	group, inGroup := "", false
	for i := range out {
		under := inGroup && related(out[i].Path, group) && len(out[i].Path) >= len(group)
		switch {
		case under:
			// Nested disjunctions belong to the outermost one.
			out[i].group, out[i].inGroup = group, true
		case out[i].summary:
			group, inGroup = out[i].Path, true
		default:
			inGroup = false
		}
	}
	// A disjunction header adds nothing when its alternatives are listed.
	if len(out) > 1 {
		kept := out[:0]
		for _, d := range out {
			if !d.summary {
				kept = append(kept, d)
			}
		}
		out = kept
	}
	return out
}

// errRange is the range of an error at pos: the whole written value of
// path when pos starts it, else pos itself.
func (p *fileParser) errRange(pos token.Pos, path string) lang.Range {
	if w, ok := p.index[path]; ok && w.start == pos {
		return p.rangeOf(w.start, w.end)
	}
	return p.rangeOf(pos, pos)
}

// message rewrites CUE's wording where it is terse.
func message(msg, path string) (string, bool) {
	what := "field " + path
	if path == "" {
		what = "the job"
	}
	switch {
	case strings.HasPrefix(msg, "incomplete value"):
		t := strings.TrimSpace(strings.TrimPrefix(msg, "incomplete value"))
		if t != "" && len(t) < 60 {
			return fmt.Sprintf("%s is not concrete (%s): give it a value or a default", what, t), false
		}
		return what + " is not concrete: give it a value or a default", false
	case msg == "field is required but not present":
		return what + " is required but not set", false
	case msg == "field not allowed":
		return what + " is not allowed by #Job", false
	case strings.HasSuffix(msg, "errors in empty disjunction:"):
		return fmt.Sprintf("%s matches none of the values #Job allows", what), true
	}
	return strings.TrimSuffix(msg, ":"), false
}

// normPath writes list indexes as path elements, so that "a[1].b" and
// "a.1.b" compare equal.
func normPath(p string) string {
	if !strings.Contains(p, "[") {
		return p
	}
	p = strings.ReplaceAll(p, "]", "")
	p = strings.ReplaceAll(p, "[", ".")
	return strings.TrimPrefix(p, ".")
}

// related reports whether one of the paths is the other or lies under it:
// a problem at one of them explains a problem at the other.
func related(a, b string) bool {
	a, b = normPath(a), normPath(b)
	if a == "" || b == "" || a == b {
		return true
	}
	if len(a) > len(b) {
		a, b = b, a
	}
	return strings.HasPrefix(b, a) && b[len(a)] == '.'
}

// relatedToAny reports whether path is related to any of paths.
func relatedToAny(path string, paths []string) bool {
	for _, q := range paths {
		if related(path, q) {
			return true
		}
	}
	return false
}

// nearest is the range of the value at path as the file writes it, or of
// its nearest written ancestor, or just the file.
func (p *fileParser) nearest(path string) lang.Range {
	for {
		if w, ok := p.index[path]; ok {
			if r := p.rangeOf(w.start, w.end); !r.IsZero() {
				return r
			}
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return lang.Range{Filename: p.filename}
		}
		path = path[:i]
	}
}

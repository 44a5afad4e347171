package cue

import (
	"strconv"

	"cuelang.org/go/cue"

	"github.com/muster-dev/muster/lang"
)

// maxDepth bounds the nesting of a job's tree, as the other frontends do.
const maxDepth = 64

// builder turns one job's cue.Value into a lang.Value tree.
type builder struct {
	p      *fileParser
	prefix string // index path of the job in the file: "" or "jobs[i]"
	// alt, when set, is the job unified with #Job. Walking the job as
	// written, a value that is not concrete is taken from alt when alt
	// makes it concrete (a default of #Job), and recorded in resolved.
	alt      *cue.Value
	sels     []cue.Selector
	resolved []string
	// skipped lists the paths left out of the tree: errors, values that
	// are not concrete, bytes.
	skipped []string
	// numBuf is scratch space for number text.
	numBuf []byte
}

// build returns the tree of v, or nil when v itself is left out.
func (b *builder) build(v cue.Value) *lang.Value {
	return b.value(v, "", 0)
}

func (b *builder) value(v cue.Value, path string, depth int) *lang.Value {
	if d, ok := v.Default(); ok {
		v = d
	}
	if depth > maxDepth {
		b.p.errorAt(v.Pos(), v.Pos(), path, "the job nests deeper than %d levels", maxDepth)
		b.skipped = append(b.skipped, path)
		return nil
	}
	kind := v.Kind()
	if kind == cue.BottomKind {
		// A struct or list with an error inside is an error itself, yet
		// its other members are good: walk them.
		if _, err := v.Fields(); err == nil {
			kind = cue.StructKind
		} else if _, err := v.List(); err == nil {
			kind = cue.ListKind
		}
	}
	switch kind {
	case cue.StructKind:
		it, err := v.Fields()
		if err != nil {
			break
		}
		out := &lang.Value{Kind: lang.Map, Range: b.valueRange(v, path)}
		for it.Next() {
			sel := it.Selector()
			if sel.LabelType() != cue.StringLabel {
				continue
			}
			key := sel.Unquoted()
			fpath := join(path, key)
			b.sels = append(b.sels, sel)
			fv := b.value(it.Value(), fpath, depth+1)
			b.sels = b.sels[:len(b.sels)-1]
			if fv == nil {
				continue
			}
			out.Fields = append(out.Fields, &lang.Field{Key: key, KeyRange: b.keyRange(fpath, fv.Range), Value: fv})
		}
		return out
	case cue.ListKind:
		it, err := v.List()
		if err != nil {
			break
		}
		out := &lang.Value{Kind: lang.List, Range: b.valueRange(v, path)}
		for i := 0; it.Next(); i++ {
			b.sels = append(b.sels, cue.Index(i))
			ev := b.value(it.Value(), path+"["+strconv.Itoa(i)+"]", depth+1)
			b.sels = b.sels[:len(b.sels)-1]
			if ev == nil {
				// Keep the indexes of the other elements as written.
				ev = &lang.Value{Kind: lang.Null, Range: b.valueRange(it.Value(), path)}
			}
			out.List = append(out.List, ev)
		}
		return out
	case cue.StringKind:
		s, err := v.String()
		if err != nil {
			break
		}
		return &lang.Value{Kind: lang.String, Str: s, Range: b.valueRange(v, path)}
	case cue.IntKind:
		n, err := v.AppendInt(b.numBuf[:0], 10)
		if err != nil {
			break
		}
		b.numBuf = n
		return &lang.Value{Kind: lang.Number, Number: string(n), Range: b.valueRange(v, path)}
	case cue.FloatKind, cue.NumberKind:
		n, err := v.MarshalJSON()
		if err != nil {
			break
		}
		return &lang.Value{Kind: lang.Number, Number: string(n), Range: b.valueRange(v, path)}
	case cue.BoolKind:
		t, err := v.Bool()
		if err != nil {
			break
		}
		return &lang.Value{Kind: lang.Bool, Bool: t, Range: b.valueRange(v, path)}
	case cue.NullKind:
		return &lang.Value{Kind: lang.Null, Range: b.valueRange(v, path)}
	case cue.BytesKind:
		r := b.valueRange(v, path)
		if r.IsZero() {
			r.Filename = b.p.filename
		}
		b.p.diags.Add(r, path, "%s is a bytes value; job fields hold strings: write \"...\", not '...'", describePath(path))
		b.skipped = append(b.skipped, path)
		return nil
	}
	// An error, or a value that is not concrete.
	if b.alt != nil && v.Err() == nil {
		if av := b.alt.LookupPath(cue.MakePath(b.sels...)); av.Exists() && av.Validate(cue.Concrete(true)) == nil {
			sub := builder{p: b.p, prefix: b.prefix}
			if t := sub.value(av, path, depth); t != nil {
				b.resolved = append(b.resolved, path)
				return t
			}
		}
	}
	b.skipped = append(b.skipped, path)
	return nil
}

// valueRange is the source range of the value at path: where the file
// writes it, else where CUE says it comes from when that is in the file,
// else the zero Range (a default of #Job).
func (b *builder) valueRange(v cue.Value, path string) lang.Range {
	if w, ok := b.p.index[join(b.prefix, path)]; ok {
		return b.p.rangeOf(w.start, w.end)
	}
	if src := v.Source(); src != nil && b.p.inFile(src.Pos()) {
		return b.p.rangeOf(src.Pos(), src.End())
	}
	pos := v.Pos()
	return b.p.rangeOf(pos, pos)
}

// keyRange is the range of the label of the field at path, or the range of
// its value when the label is not written literally.
func (b *builder) keyRange(path string, value lang.Range) lang.Range {
	if w, ok := b.p.index[join(b.prefix, path)]; ok && w.label != nil {
		return b.p.rangeOf(w.label.Pos(), w.label.End())
	}
	if !value.IsZero() {
		if l, ok := b.p.labels[value.Start.Byte]; ok {
			return b.p.rangeOf(l.Pos(), l.End())
		}
	}
	return value
}

func describePath(path string) string {
	if path == "" {
		return "the job"
	}
	return path
}

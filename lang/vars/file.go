package vars

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"

	"github.com/muster-dev/muster/lang"
)

// ReadFile reads the variable values of one var file, in file order. A file
// that cannot be read is one error naming the path.
//
// A command that compiles many files reads the same var files for each of
// them, so results are cached by path, size and modification time. The
// returned slices are shared: callers must not modify them.
func ReadFile(path string) ([]Value, lang.Diagnostics) {
	info, statErr := os.Stat(path)
	if statErr == nil {
		cache.Lock()
		e, ok := cache.m[path]
		cache.Unlock()
		if ok && e.size == info.Size() && e.mod.Equal(info.ModTime()) {
			return e.vals, e.diags
		}
	}
	src, err := readLimited(path)
	if err != nil {
		var diags lang.Diagnostics
		diags.Add(lang.Range{Filename: path}, "", "cannot read var file: %v", err)
		return nil, diags
	}
	vals, diags := ParseFile(path, src)
	if statErr == nil {
		cache.Lock()
		if len(cache.m) >= 64 {
			clear(cache.m)
		}
		cache.m[path] = cached{size: info.Size(), mod: info.ModTime(), vals: vals, diags: diags}
		cache.Unlock()
	}
	return vals, diags
}

type cached struct {
	size  int64
	mod   time.Time
	vals  []Value
	diags lang.Diagnostics
}

var cache = struct {
	sync.Mutex
	m map[string]cached
}{m: map[string]cached{}}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, fmt.Errorf("%s does not exist", path)
		}
		if pe, ok := err.(*os.PathError); ok {
			return nil, fmt.Errorf("%s: %v", path, pe.Err)
		}
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, maxVarFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(src) > maxVarFileBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, maxVarFileBytes>>20)
	}
	return src, nil
}

// ParseFile reads the variable values of a var file whose content is src.
// The extension of path picks the syntax: .hcl (name = value attributes with
// literal values only), .yaml or .yml (a top-level mapping) or .json (a
// top-level object).
func ParseFile(path string, src []byte) ([]Value, lang.Diagnostics) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".hcl":
		return parseHCL(path, src)
	case ".json":
		return parseJSON(path, src)
	case ".yaml", ".yml":
		return parseYAML(path, src)
	}
	var diags lang.Diagnostics
	diags.Add(lang.Range{Filename: path}, "", "var file %s: unknown type %q; use .hcl, .yaml, .yml or .json", path, filepath.Ext(path))
	return nil, diags
}

func parseHCL(path string, src []byte) ([]Value, lang.Diagnostics) {
	f, hd := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	diags := convertDiags(src, hd)
	if f == nil {
		return nil, diags
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, diags
	}
	for _, b := range body.Blocks {
		diags.Add(convertRange(src, b.TypeRange), "", "a var file holds only name = value attributes; the block %q is not allowed", b.Type)
	}
	return attrValues(path, src, attrList(body.Attributes), diags)
}

func parseJSON(path string, src []byte) ([]Value, lang.Diagnostics) {
	f, hd := hcljson.Parse(src, path)
	diags := convertDiags(src, hd)
	if f == nil || hd.HasErrors() {
		return nil, diags
	}
	attrs, hd := f.Body.JustAttributes()
	diags = append(diags, convertDiags(src, hd)...)
	list := make([]*hcl.Attribute, 0, len(attrs))
	for _, a := range attrs {
		list = append(list, a)
	}
	return attrValues(path, src, list, diags)
}

type attr = hcl.Attribute

func attrList(m hclsyntax.Attributes) []*hcl.Attribute {
	list := make([]*hcl.Attribute, 0, len(m))
	for _, a := range m {
		list = append(list, a.AsHCLAttribute())
	}
	return list
}

// attrValues evaluates attributes without an evaluation context, so that
// only literal values are allowed, in source order.
func attrValues(path string, src []byte, list []*attr, diags lang.Diagnostics) ([]Value, lang.Diagnostics) {
	sort.Slice(list, func(i, j int) bool { return list[i].Range.Start.Byte < list[j].Range.Start.Byte })
	out := make([]Value, 0, len(list))
	for _, a := range list {
		v, hd := a.Expr.Value(nil)
		if hd.HasErrors() {
			diags = append(diags, convertDiags(src, hd)...)
			continue
		}
		out = append(out, Value{Name: a.Name, Value: v, Source: path,
			Range: convertRange(src, a.Range), NameRange: convertRange(src, a.NameRange)})
	}
	return out, diags
}

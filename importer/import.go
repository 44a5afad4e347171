// Package importer translates jobs of the systems muster was born from
// into muster jobs: Bacalhau (its v1 Job, and the legacy Spec form),
// Expanso (types.Job) and Oasis Parcel (JobSpec). docs/import.md holds the
// mapping of every field.
//
// Every source field lands in a muster field, or is dropped with a
// warning that names it and says why. A field whose loss would change what
// the job does without anyone noticing is an error instead, as is an
// engine muster does not have. The muster job is built as the value tree a
// frontend would parse and goes through the validator, so an imported job
// is valid, and every diagnostic, the validator's too, points at the
// source file's line and column.
package importer

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	langjson "github.com/muster-dev/muster/lang/json"
	langyaml "github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

// System names a job system Import reads.
type System string

// The systems Import reads.
const (
	Bacalhau System = "bacalhau"
	Expanso  System = "expanso"
	Parcel   System = "parcel"
)

// Systems lists every System, for help and errors.
var Systems = []System{Bacalhau, Expanso, Parcel}

// title is the system's name as its users write it.
func (s System) title() string {
	switch s {
	case Expanso:
		return "Expanso"
	case Parcel:
		return "Parcel"
	}
	return "Bacalhau"
}

// translators hold the translation of one source job (a map) of each
// system into j.
var translators = map[System]func(c *conv, src *obj, j *job){
	Bacalhau: bacalhauJob,
	Expanso:  expansoJob,
	Parcel:   parcelJob,
}

// Options are what Import needs beyond the source. The zero Options take
// every name from the source.
type Options struct {
	// Name names the job (every job of the file, numbered from the second
	// on) instead of the name the source gives, or derives from the file
	// name when it gives none.
	Name string
}

// Job is one imported job.
type Job struct {
	// Tree is the muster job as a frontend would parse it: every value
	// carries the range of the source value it came from. lang/emit
	// writes it in any format.
	Tree *lang.Value
	// Spec is the job validated and normalized; Spec.Hash() is its hash.
	Spec *schema.Job
}

// Result is what Import gives: the jobs that imported without error and
// every diagnostic, warnings included, in source order.
type Result struct {
	Jobs  []Job
	Diags lang.Diagnostics
}

// Import translates the jobs of src, a YAML or JSON file of system sys
// (JSON when its first character opens an object or an array). filename
// names it in diagnostics ("-" for standard input).
func Import(sys System, filename string, src []byte, opts Options) Result {
	c := &conv{file: filename}
	translate, ok := translators[sys]
	if !ok {
		c.errorf(lang.Range{}, "", "unknown system %q: want %s", sys, systemList())
		return Result{Diags: c.diags}
	}
	var res Result
	for i, doc := range c.parse(src) {
		before := len(c.diags)
		j := newJob()
		src := c.object(doc, "")
		if src == nil {
			continue
		}
		translate(c, src, j)
		c.name(j, sys, i, opts)
		if lang.Diagnostics(c.diags[before:]).HasErrors() {
			continue // validating the rest would say the same again
		}
		if spec := c.validate(j); spec != nil {
			res.Jobs = append(res.Jobs, Job{Tree: j.root, Spec: spec})
		}
	}
	c.diags.Sort()
	res.Diags = c.diags
	return res
}

// systemList is "bacalhau, expanso or parcel".
func systemList() string {
	names := make([]string, len(Systems))
	for i, s := range Systems {
		names[i] = string(s)
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// parse reads the documents of src: a JSON object or array of objects, or
// YAML documents.
func (c *conv) parse(src []byte) []*lang.Value {
	if len(src) > compiler.MaxFileSize {
		c.errorf(lang.Range{Start: lang.Pos{Line: 1, Column: 1}}, "", "the file is larger than %d MiB; a job file is a few kilobytes", compiler.MaxFileSize>>20)
		return nil
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf")) // a byte order mark, as some editors write
	trimmed := bytes.TrimLeft(src, " \t\r\n")
	parse := langyaml.Parse
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		parse = langjson.Parse
	}
	docs, diags := parse(c.file, src, lang.Options{})
	c.diags = append(c.diags, diags...)
	if len(docs) == 0 && !diags.HasErrors() {
		c.errorf(lang.Range{Start: lang.Pos{Line: 1, Column: 1}}, "", "the file holds no job")
	}
	return docs
}

// setName writes the source's name or namespace v, at path, as the muster
// field key, made a DNS label; a name it had to change is a warning.
func (c *conv) setName(j *job, key string, v *lang.Value, path string) {
	s, ok := c.str(v, path)
	if !ok {
		return
	}
	label := dnsLabel(s)
	switch {
	case label == "":
		c.errorf(v.Range, path, "%q has no letter or digit to make a muster %s of", s, key)
		return
	case label != s:
		c.warnf(v.Range, path, "%q is not a muster %s (lower case letters, digits and '-', at most 63): written as %q", s, key, label)
	}
	j.set(key, text(label, v.Range))
}

// name gives the job j, the index-th of the file, the name of opts, or
// one after the file when the source gave none.
func (c *conv) name(j *job, sys System, index int, opts Options) {
	suffix := ""
	if index > 0 {
		suffix = fmt.Sprintf("-%d", index+1)
	}
	if opts.Name != "" {
		j.set("name", text(dnsLabel(opts.Name)+suffix, lang.Range{Filename: c.file}))
		return
	}
	if j.get("name") != nil {
		return
	}
	base := dnsLabel(strings.TrimSuffix(filepath.Base(c.file), filepath.Ext(c.file)))
	if c.file == "-" || base == "" {
		c.errorf(lang.Range{}, "", "the %s job has no name: give one with --name", sys.title())
		return
	}
	c.warnf(lang.Range{}, "", "the %s job has no name: named %q after the file (--name gives another)", sys.title(), base+suffix)
	j.set("name", text(base+suffix, lang.Range{Filename: c.file}))
}

// validate runs the validator over the tree of j. Its diagnostics point
// into the source (the tree's values keep their source ranges) and name
// the muster field.
func (c *conv) validate(j *job) *schema.Job {
	spec, diags := validate.Job(j.root)
	for _, d := range diags {
		d.Range = c.at(d.Range)
		d.Message = "in the muster job: " + d.Message
		c.diags = append(c.diags, d)
	}
	return spec
}

// Header is the comment an imported file starts with: where it came from.
func Header(sys System, filename string) string {
	if filename == "-" {
		filename = "on standard input"
	}
	return fmt.Sprintf("Imported from the %s job %s by muster import (docs/import.md).", sys.title(), filename)
}

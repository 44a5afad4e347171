package importer

import (
	"fmt"
	"net/url"
	pathpkg "path"
	"strings"

	"github.com/muster-dev/muster/lang"
)

// The parts of a Bacalhau task beyond its engine: the wasm module, inputs,
// results, resources, network and timeouts.

// wasmModule is a wasm task's EntryModule while the task's inputs are
// read: Bacalhau names the module by the alias or the target of one of
// them. The zero wasmModule is a task that is not wasm.
type wasmModule struct {
	name  string
	v     *lang.Value // where EntryModule is written
	path  string
	found bool
}

// matches reports whether the input with alias and target holds the
// module.
func (w *wasmModule) matches(alias, target string) bool {
	if w.v == nil || w.found || w.name == "" {
		return false
	}
	return w.name == alias || w.name == target || "/"+strings.TrimPrefix(w.name, "/") == target
}

// resolved reports an EntryModule that no input holds.
func (w *wasmModule) resolved(c *conv, j *job) {
	if w.v != nil && !w.found {
		c.errorf(w.v.Range, w.path, "EntryModule %q is neither an http(s) URL nor the alias or target of one of the task's InputSources", w.name)
	}
}

// wasmParams translates the wasm engine's parameters. The module is found
// later, among the inputs, unless it is a URL.
func (c *conv) wasmParams(j *job, p *obj) wasmModule {
	var w wasmModule
	mv, mp := p.value("EntryModule")
	switch {
	case mv == nil:
		c.errorf(p.v.Range, p.path, "the wasm engine has no EntryModule")
	case mv.Kind == lang.Map:
		c.moduleSource(j, mv, mp)
	default:
		name, ok := c.str(mv, mp)
		switch {
		case !ok:
		case isURL(name):
			j.set("task.image", text(name, mv.Range))
		default:
			w = wasmModule{name: name, v: mv, path: mp}
		}
	}
	c.wasmEntrypoint(p, "Entrypoint", "EntryPoint")
	c.stringList(j, "task.cmd", p, "Parameters")
	if v, vp := p.value("EnvironmentVariables"); v != nil {
		c.envList(j, v, vp)
	}
	if v, vp := p.value("ImportModules"); v != nil && !empty(v) {
		c.errorf(v.Range, vp, "muster links no imported modules into a wasm module: it would not start; link them into one module")
	}
	p.rest(func(string) string { return "not a parameter of Bacalhau's wasm engine" })
	return w
}

// moduleSource writes the wasm module given as an input source
// {Source, Target} as the task's image.
func (c *conv) moduleSource(j *job, v *lang.Value, path string) {
	in := c.object(v, path)
	in.drop("", "Target", "Alias")
	if o, sv, sp, ok := c.source(in, v, path); ok {
		c.module(j, &wasmModule{v: v, path: path}, o, sv, sp)
	}
}

// wasmEntrypoint checks the function a wasm module starts at: muster
// starts every module at _start, as WASI does.
func (c *conv) wasmEntrypoint(p *obj, keys ...string) {
	s, v, path := p.stringValue(keys...)
	if v != nil && s != "" && s != "_start" {
		c.errorf(v.Range, path, "muster starts a wasm module at _start, not at %q: the job would run other code", s)
	}
}

// isURL reports whether s is an http(s) URL.
func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

// origin is where an input comes from, as far as muster can read it.
type origin struct {
	file, url string // a path on the node, or an http(s) URL
	why       string // when neither: why muster cannot read it
}

// inputSource translates one input (models.InputSource).
func (c *conv) inputSource(j *job, v *lang.Value, path string, w *wasmModule) {
	in := c.object(v, path)
	if in == nil {
		return
	}
	target, tv, _ := in.stringValue("Target")
	alias, av, ap := in.stringValue("Alias")
	o, sv, sp, ok := c.source(in, v, path)
	if !ok {
		return
	}
	if w.matches(alias, target) {
		c.module(j, w, o, sv, sp)
		return
	}
	if av != nil && alias != "" {
		c.warnf(av.Range, ap, "dropped: muster refers to inputs by their target path, and has no aliases")
	}
	c.addInput(j, o, sv, sp, target, tv, path)
}

// source reads the Source {Type, Params} of the input in, the value v at
// path, and warns about the input's other fields but Target and Alias.
// ok is false after an error.
func (c *conv) source(in *obj, v *lang.Value, path string) (o origin, sv *lang.Value, sp string, ok bool) {
	sv, sp = in.value("Source")
	in.field("Target")
	in.field("Alias")
	in.rest(func(string) string { return "not a field of an input source (Source, Alias, Target)" })
	src := c.object(sv, sp)
	if src == nil {
		c.errorf(v.Range, path, "the input has no Source")
		return origin{}, nil, "", false
	}
	kind, kv, kp := src.stringValue("Type")
	pv, pp := src.value("Params")
	src.rest(func(string) string { return "not a field of a source (Type, Params)" })
	if kv == nil {
		c.errorf(sv.Range, sp, "the source has no Type")
		return origin{}, nil, "", false
	}
	o, ok = c.originOf(kind, kv, kp, c.object(pv, pp))
	return o, sv, sp, ok
}

// module writes the input o, which holds the wasm task's module, as the
// task's image.
func (c *conv) module(j *job, w *wasmModule, o origin, sv *lang.Value, sp string) {
	w.found = true
	switch {
	case o.url != "":
		j.set("task.image", text(o.url, sv.Range))
	case o.file != "":
		j.set("task.image", text(o.file, sv.Range))
	default:
		c.errorf(sv.Range, sp, "the wasm module cannot be read: %s; muster reads a module from a path on the node, an http(s) URL or a sha256: document", o.why)
	}
}

// addInput writes the input o with its target, or warns that muster
// cannot read it.
func (c *conv) addInput(j *job, o origin, sv *lang.Value, sp, target string, tv *lang.Value, path string) {
	source := o.url
	if o.file != "" {
		source = "file://" + o.file
	}
	if source == "" {
		c.warnf(sv.Range, sp, "dropped: %s; muster reads inputs from files on the node, http(s) URLs and its document store: put the data in one of those and add it to task.inputs", o.why)
		return
	}
	if tv == nil {
		c.errorf(sv.Range, path, "the input has no Target")
		return
	}
	if o.url != "" {
		// Bacalhau downloads a URL into the target directory, under the
		// URL's file name: muster places it at the path that makes.
		file, ok := urlFile(o.url)
		if !ok {
			c.errorf(sv.Range, sp, "the URL %s ends with no file name, which Bacalhau names the download by", o.url)
			return
		}
		target = pathpkg.Join(target, file)
	}
	j.add("task.inputs", object(sv.Range, "source", text(source, sv.Range), "target", text(target, tv.Range)))
}

// urlFile is the file name a URL's path ends with.
func urlFile(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	base := pathpkg.Base(u.Path)
	return base, u.Path != "" && base != "." && base != "/"
}

// originOf reads a source of type kind (written at kv, kp) with its
// parameters p. ok is false after an error.
func (c *conv) originOf(kind string, kv *lang.Value, kp string, p *obj) (origin, bool) {
	quiet := func(string) string { return "" }
	switch fold(kind) {
	case "local", "localdirectory":
		path, pv, _ := p.stringValue("SourcePath")
		if pv == nil || path == "" {
			c.errorf(kv.Range, kp, "a %s source needs Params.SourcePath", kind)
			return origin{}, false
		}
		if rw, rwp := p.value("ReadWrite"); rw != nil && rw.Kind == lang.Bool && rw.Bool {
			c.warnf(rw.Range, rwp, "dropped: muster copies an input into the execution's root, so the task's writes do not reach %s on the node", path)
		}
		p.rest(func(string) string { return "not a parameter of a local source" })
		return origin{file: path}, true
	case "urldownload", "url":
		u, uv, _ := p.stringValue("URL")
		p.rest(func(string) string { return "not a parameter of a URL source" })
		if uv == nil || !isURL(u) {
			c.errorf(kv.Range, kp, "a %s source needs Params.URL, an http(s) URL, not %q", kind, u)
			return origin{}, false
		}
		return origin{url: u}, true
	case "s3", "s3presigned", "s3managed":
		bucket, _, _ := p.stringValue("Bucket")
		key, _, _ := p.stringValue("Key")
		p.rest(quiet)
		return origin{why: fmt.Sprintf("the S3 object s3://%s/%s is not fetched", bucket, key)}, true
	case "ipfs":
		cid, _, _ := p.stringValue("CID")
		p.rest(quiet)
		return origin{why: fmt.Sprintf("IPFS content %s is not fetched", cid)}, true
	case "inline":
		p.rest(quiet)
		return origin{why: "inline data (a data: URL) is not read"}, true
	}
	c.errorf(kv.Range, kp, "unknown source type %q: want local, urlDownload, s3, ipfs or inline", kind)
	return origin{}, false
}

// resultPath translates one result path {Name, Path} into an output.
func (c *conv) resultPath(j *job, v *lang.Value, path string) {
	o := c.object(v, path)
	if o == nil {
		return
	}
	p, pv, _ := o.stringValue("Path")
	o.drop("muster names an output by its path", "Name")
	o.rest(func(string) string { return "not a field of a result path (Name, Path)" })
	if pv == nil {
		c.errorf(v.Range, path, "the result path has no Path")
		return
	}
	j.add("task.outputs", object(v.Range, "path", text(p, pv.Range)))
}

// bacalhauResources translates {CPU, Memory, Disk, GPU}.
func (c *conv) bacalhauResources(j *job, v *lang.Value, path string) {
	r := c.object(v, path)
	if r == nil {
		return
	}
	if cv, cp := r.value("CPU", "CPUs"); cv != nil {
		c.cpus(j, cv, cp)
	}
	if mv, mp := r.value("Memory"); mv != nil {
		c.bytesMemory(j, mv, mp)
	}
	r.drop("muster does not limit the disk an execution uses", "Disk")
	if gpu, gv, gp := r.stringValue("GPU"); gv != nil && gpu != "" && gpu != "0" {
		c.errorf(gv.Range, gp, "the task asks for %s GPU(s), and muster places no GPUs: it would run without one", gpu)
	}
	r.rest(func(string) string { return "not a resource muster knows (CPU, Memory)" })
}

// bacalhauTimeouts translates {ExecutionTimeout, QueueTimeout,
// TotalTimeout}, in seconds.
func (c *conv) bacalhauTimeouts(j *job, v *lang.Value, path string) {
	t := c.object(v, path)
	if t == nil {
		return
	}
	for _, k := range [][2]string{{"ExecutionTimeout", "timeouts.execution"}, {"QueueTimeout", "timeouts.queue"}, {"TotalTimeout", "timeouts.total"}} {
		if tv, tp := t.value(k[0]); tv != nil {
			c.timeout(j, k[1], tv, tp)
		}
	}
	t.rest(func(string) string {
		return "not a timeout muster knows (ExecutionTimeout, QueueTimeout, TotalTimeout)"
	})
}

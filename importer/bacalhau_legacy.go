package importer

import (
	"strings"

	"github.com/muster-dev/muster/lang"
)

// The legacy Bacalhau job (APIVersion V1beta1 and earlier):
//
//	APIVersion: V1beta1
//	Spec:
//	  Engine: Docker
//	  Docker: {Image, Entrypoint, Parameters, EnvironmentVariables, WorkingDirectory}
//	  Resources: {CPU, Memory, Disk, GPU}
//	  Inputs: [{StorageSource, CID, URL, S3, SourcePath, Path}]
//	  Outputs: [{StorageSource, Name, Path}]
//	  NodeSelectors: [{Key, Operator, Values}]
//	  Deal: {Concurrency, TargetingMode}
//
// It has no name: Import names it after the file, or --name.

// bacalhauLegacy translates a legacy job.
func bacalhauLegacy(c *conv, src *obj, j *job) {
	src.field("APIVersion")
	src.drop("set by Bacalhau's requester when the job was submitted", "Metadata")
	sv, sp := src.value("Spec")
	spec := c.object(sv, sp)
	src.rest(func(string) string { return "not a field of a legacy Bacalhau job (APIVersion, Metadata, Spec)" })
	if spec == nil {
		c.errorf(src.v.Range, "Spec", "the legacy Bacalhau job has no Spec")
		return
	}
	c.deal(j, spec)
	w := c.legacyEngine(j, spec)
	if v, p := spec.value("Inputs"); v != nil {
		for i, in := range c.list(v, p) {
			c.storageInput(j, in, index(p, i))
		}
	}
	w.resolved(c, j)
	if v, p := spec.value("Outputs"); v != nil {
		for i, out := range c.list(v, p) {
			c.storageOutput(j, out, index(p, i))
		}
	}
	if v, p := spec.value("Resources"); v != nil {
		c.bacalhauResources(j, v, p)
	}
	if v, p := spec.value("Network"); v != nil {
		c.bacalhauNetwork(j, v, p)
	}
	if v, p := spec.value("Timeout"); v != nil {
		c.timeout(j, "timeouts.execution", v, p)
	}
	if v, p := spec.value("NodeSelectors"); v != nil {
		for i, r := range c.list(v, p) {
			c.requirement(j, r, index(p, i))
		}
	}
	c.publisher(spec, "Publisher")
	c.publisher(spec, "PublisherSpec")
	spec.drop("muster verifies no results: every execution's outputs are kept as they are", "Verifier")
	spec.drop("muster has no annotations: labels are key=value pairs", "Annotations")
	spec.drop("muster keeps no such record", "DoNotTrack")
	spec.rest(func(string) string { return "not a field of a legacy Bacalhau spec" })
}

// deal translates the Deal {Concurrency, TargetingMode, Confidence,
// MinBids}: a job that targets every node is an ops job, else a batch job
// of Concurrency executions.
func (c *conv) deal(j *job, spec *obj) {
	v, p := spec.value("Deal")
	d := c.object(v, p)
	if tm, tp := d.value("TargetingMode"); tm != nil {
		if all, ok := c.boolean(tm, tp); ok && all {
			j.set("type", text("ops", tm.Range))
			d.drop("an ops job runs once on every matching node, and takes no count", "Concurrency")
			d.rest(func(string) string { return "muster places executions without bids" })
			return
		}
	}
	if cv, cp := d.value("Concurrency"); cv != nil {
		c.count(j, "batch", cv, cp)
	}
	d.rest(func(string) string { return "muster places executions without bids or verification" })
}

// legacyEngine translates Engine with Docker or Wasm, or EngineSpec.
func (c *conv) legacyEngine(j *job, spec *obj) wasmModule {
	if v, p := spec.value("EngineSpec"); v != nil && !empty(v) {
		spec.field("Engine")
		return c.bacalhauEngine(j, v, p)
	}
	name, ev, ep := spec.stringValue("Engine")
	if ev == nil {
		c.errorf(spec.v.Range, spec.sub("Engine"), "the spec has no Engine: want Docker or Wasm")
		return wasmModule{}
	}
	dv, dp := spec.value("Docker")
	wv, wp := spec.value("Wasm")
	switch strings.ToLower(name) {
	case "docker":
		c.warnUnused(wv, wp, "the job runs the docker engine")
		if dv == nil {
			j.set("task.engine", text("docker", ev.Range))
			c.errorf(ev.Range, ep, "the docker engine has no Docker spec: it needs Docker.Image")
			return wasmModule{}
		}
		return c.engineOf(j, name, ev, ep, c.object(dv, dp), dp)
	case "wasm":
		c.warnUnused(dv, dp, "the job runs the wasm engine")
		j.set("task.engine", text("wasm", ev.Range))
		if wasm := c.object(wv, wp); wasm != nil {
			return c.legacyWasm(j, wasm)
		}
		c.errorf(ev.Range, ep, "the wasm engine has no Wasm spec: it needs an EntryModule")
		return wasmModule{}
	}
	return c.engineOf(j, name, ev, ep, nil, "")
}

// warnUnused warns about v, at path, a spec of another engine.
func (c *conv) warnUnused(v *lang.Value, path, why string) {
	if v != nil && !empty(v) {
		c.warnf(v.Range, path, "dropped: %s", why)
	}
}

// legacyWasm translates the Wasm spec, whose EntryModule is a storage
// spec of its own.
func (c *conv) legacyWasm(j *job, p *obj) wasmModule {
	if mv, mp := p.value("EntryModule"); mv != nil {
		c.legacyModule(j, mv, mp)
	} else {
		c.errorf(p.v.Range, p.path, "the Wasm spec has no EntryModule")
	}
	c.wasmEntrypoint(p, "EntryPoint", "Entrypoint")
	c.stringList(j, "task.cmd", p, "Parameters")
	if v, vp := p.value("EnvironmentVariables"); v != nil {
		c.envList(j, v, vp)
	}
	if v, vp := p.value("ImportModules"); v != nil && !empty(v) {
		c.errorf(v.Range, vp, "muster links no imported modules into a wasm module: it would not start; link them into one module")
	}
	p.rest(func(string) string { return "not a field of a legacy Wasm spec" })
	return wasmModule{}
}

// legacyModule writes the storage spec v, at path, that holds the wasm
// module as the task's image.
func (c *conv) legacyModule(j *job, v *lang.Value, path string) {
	if v.Kind == lang.String && isURL(v.Str) {
		j.set("task.image", text(v.Str, v.Range))
		return
	}
	s := c.object(v, path)
	if s == nil {
		return
	}
	o, _, ok := c.storage(s)
	if !ok {
		return
	}
	w := wasmModule{v: v, path: path}
	c.module(j, &w, o, v, path)
}

// storage reads a legacy storage spec {StorageSource, CID, URL, S3,
// SourcePath, ReadWrite, Path, Name, Metadata}. It returns where it comes
// from and its Path (the target).
func (c *conv) storage(s *obj) (origin, *lang.Value, bool) {
	kind, kv, kp := s.stringValue("StorageSource")
	target, _ := s.value("Path")
	s.drop("muster refers to inputs by their target path", "Name")
	s.drop("muster keeps no metadata of inputs", "Metadata")
	if kv == nil {
		c.errorf(s.v.Range, s.sub("StorageSource"), "the storage spec has no StorageSource")
		s.rest(func(string) string { return "" })
		return origin{}, nil, false
	}
	params := s
	if fold(kind) == "s3" {
		if sv, sp := s.value("S3"); sv != nil {
			params = c.object(sv, sp)
		}
	}
	o, ok := c.originOf(kind, kv, kp, params)
	s.rest(func(string) string { return "not a field of a legacy storage spec" })
	return o, target, ok
}

// storageInput translates one legacy input.
func (c *conv) storageInput(j *job, v *lang.Value, path string) {
	s := c.object(v, path)
	if s == nil {
		return
	}
	o, target, ok := c.storage(s)
	if !ok {
		return
	}
	t := ""
	if target != nil {
		t, _ = c.str(target, s.sub("Path"))
	}
	c.addInput(j, o, v, path, t, target, path)
}

// storageOutput translates one legacy output {StorageSource, Name, Path}.
func (c *conv) storageOutput(j *job, v *lang.Value, path string) {
	s := c.object(v, path)
	if s == nil {
		return
	}
	p, pv, _ := s.stringValue("Path")
	s.drop("muster names an output by its path", "Name")
	s.drop("muster keeps every output as a content-addressed document, published nowhere else", "StorageSource")
	s.rest(func(string) string { return "not a field of a legacy output" })
	if pv == nil {
		c.errorf(v.Range, path, "the output has no Path")
		return
	}
	j.add("task.outputs", object(v.Range, "path", text(p, pv.Range)))
}

package importer

import (
	"strings"

	"github.com/muster-dev/muster/lang"
)

// Bacalhau: the v1 job (models.Job) with one task of the docker or wasm
// engine; the legacy form (APIVersion and Spec) is in bacalhau_legacy.go.
// The orchestrator API's answer {"Job": {...}} is read too.

// bacalhauJob translates one Bacalhau job.
func bacalhauJob(c *conv, src *obj, j *job) {
	if src.has("Job") && !src.has("Tasks") && !src.has("Spec") {
		inner, path := src.value("Job")
		src.rest(func(string) string { return "part of the orchestrator's answer around the job, not of the job" })
		if o := c.object(inner, path); o != nil {
			bacalhauJob(c, o, j)
		}
		return
	}
	if src.has("Spec") || src.has("APIVersion") {
		bacalhauLegacy(c, src, j)
		return
	}
	if v, p := src.value("Name"); v != nil {
		c.setName(j, "name", v, p)
	}
	if v, p := src.value("Namespace"); v != nil {
		c.setName(j, "namespace", v, p)
	}
	typ := "batch"
	if v, p := src.value("Type"); v != nil {
		typ = c.jobType(j, v, p)
	}
	if v, p := src.value("Count"); v != nil {
		c.count(j, typ, v, p)
	}
	if v, p := src.value("Priority"); v != nil {
		c.priority(j, v, p)
	}
	meta, mp := src.value("Meta")
	c.stringMap(j, "meta", meta, mp, c.reserved("bacalhau.org/", "set by Bacalhau's requester when the job was submitted"))
	if labels, lp := src.value("Labels"); labels != nil {
		c.labels(j, labels, lp)
	}
	if v, p := src.value("Constraints"); v != nil {
		for i, r := range c.list(v, p) {
			c.requirement(j, r, index(p, i))
		}
	}
	c.bacalhauTasks(j, src, typ)
	src.drop("set by the Bacalhau orchestrator, not by the job's author", "ID", "State", "Version", "Revision", "CreateTime", "ModifyTime")
	src.rest(func(string) string { return "not a field of a Bacalhau job" })
}

// bacalhauTasks translates Tasks, which must hold one task.
func (c *conv) bacalhauTasks(j *job, src *obj, typ string) {
	v, p := src.value("Tasks")
	if v == nil {
		c.errorf(src.v.Range, "Tasks", "the job has no Tasks: a Bacalhau job runs one task")
		return
	}
	tasks := c.list(v, p)
	switch {
	case v.Kind != lang.List:
		return
	case len(tasks) == 0:
		c.errorf(v.Range, p, "the job has no task: a Bacalhau job runs one task")
		return
	case len(tasks) > 1:
		c.errorf(tasks[1].Range, index(p, 1), "a muster job runs one task: make a job of each task")
	}
	t := c.object(tasks[0], index(p, 0))
	if t == nil {
		return
	}
	c.bacalhauTask(j, t, typ)
}

// bacalhauTask translates one task (models.Task).
func (c *conv) bacalhauTask(j *job, t *obj, typ string) {
	t.drop("muster tasks have no name: the job's name names its one task", "Name")
	var w wasmModule
	if v, p := t.value("Engine"); v != nil {
		w = c.bacalhauEngine(j, v, p)
	} else {
		c.errorf(t.v.Range, t.sub("Engine"), "the task has no Engine")
	}
	if v, p := t.value("Env"); v != nil {
		c.bacalhauEnv(j, v, p)
	}
	if v, p := t.value("InputSources"); v != nil {
		for i, in := range c.list(v, p) {
			c.inputSource(j, in, index(p, i), &w)
		}
	}
	w.resolved(c, j)
	if v, p := t.value("ResultPaths"); v != nil {
		for i, rp := range c.list(v, p) {
			c.resultPath(j, rp, index(p, i))
		}
	}
	if v, p := t.value("Resources"); v != nil {
		c.bacalhauResources(j, v, p)
	}
	if v, p := t.value("Network"); v != nil {
		c.bacalhauNetwork(j, v, p)
	}
	if v, p := t.value("Timeouts"); v != nil {
		c.bacalhauTimeouts(j, v, p)
	}
	c.publisher(t, "Publisher")
	t.drop("muster tasks carry no metadata (the job's meta does)", "Meta")
	t.rest(func(string) string { return "not a field of a Bacalhau task" })
}

// publisher drops the publisher field key of o, when it names one.
func (c *conv) publisher(o *obj, key string) {
	v, p := o.value(key)
	if v == nil {
		return
	}
	name := ""
	if v.Kind == lang.String {
		name = v.Str
	} else if pub := c.object(v, p); pub != nil {
		name, _, _ = pub.stringValue("Type")
		pub.rest(func(string) string { return "" })
	}
	if name != "" && !strings.EqualFold(name, "noop") {
		c.warnf(v.Range, p, "dropped: muster keeps every output as a content-addressed document (muster doc get), and publishes to no %s", name)
	}
}

// bacalhauEngine translates the engine (a SpecConfig {Type, Params}).
func (c *conv) bacalhauEngine(j *job, v *lang.Value, path string) wasmModule {
	e := c.object(v, path)
	if e == nil {
		return wasmModule{}
	}
	name, tv, tp := e.stringValue("Type")
	pv, pp := e.value("Params")
	params := c.object(pv, pp)
	e.rest(func(string) string { return "not a field of an engine (Type, Params)" })
	if tv == nil {
		c.errorf(v.Range, path, "the engine has no Type: want docker or wasm")
		return wasmModule{}
	}
	return c.engineOf(j, name, tv, tp, params, pp)
}

// engineOf translates the engine name (written at tv, tp) with its
// parameters.
func (c *conv) engineOf(j *job, name string, tv *lang.Value, tp string, params *obj, pp string) wasmModule {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "docker":
		j.set("task.engine", text("docker", tv.Range))
		if params == nil {
			c.errorf(tv.Range, tp, "the docker engine has no Params: it needs an Image")
			return wasmModule{}
		}
		c.dockerParams(j, params, pp)
	case "wasm":
		j.set("task.engine", text("wasm", tv.Range))
		if params == nil {
			c.errorf(tv.Range, tp, "the wasm engine has no Params: it needs an EntryModule")
			return wasmModule{}
		}
		return c.wasmParams(j, params)
	case "noop":
		c.errorf(tv.Range, tp, "the noop engine runs nothing, and muster has no such engine: run a real program (docker, wasm or exec)")
	default:
		c.errorf(tv.Range, tp, "unknown engine %q: muster runs docker, wasm and exec tasks", name)
	}
	return wasmModule{}
}

// dockerParams translates the docker engine's parameters.
func (c *conv) dockerParams(j *job, p *obj, path string) {
	image, iv, _ := p.stringValue("Image")
	if iv == nil {
		c.errorf(p.v.Range, path, "the docker engine has no Image")
	} else {
		j.set("task.image", text(image, iv.Range))
	}
	c.stringList(j, "task.entrypoint", p, "Entrypoint")
	c.stringList(j, "task.cmd", p, "Parameters")
	if v, vp := p.value("EnvironmentVariables"); v != nil {
		c.envList(j, v, vp)
	}
	if wd, wv, _ := p.stringValue("WorkingDirectory"); wv != nil && wd != "" {
		j.set("task.workdir", text(wd, wv.Range))
	}
	p.rest(func(string) string { return "not a parameter of Bacalhau's docker engine" })
}

// stringList writes the list of strings field key of o as the muster
// field at path.
func (c *conv) stringList(j *job, path string, o *obj, keys ...string) {
	v, p := o.value(keys...)
	if v == nil {
		return
	}
	if v.Kind == lang.String {
		if strings.ContainsAny(v.Str, " \t\n") {
			c.errorf(v.Range, p, "want a list of strings, not a command line: splitting it as a shell would is a guess")
			return
		}
		if v.Str != "" {
			j.set(path, texts([]string{v.Str}, v.Range))
		}
		return
	}
	if ss, ok := c.strs(v, p); ok && len(ss) > 0 {
		j.set(path, texts(ss, v.Range))
	}
}

// envList translates environment variables written as "NAME=value".
func (c *conv) envList(j *job, v *lang.Value, path string) {
	if v.Kind == lang.Map {
		c.bacalhauEnv(j, v, path)
		return
	}
	for i, e := range c.list(v, path) {
		s, ok := c.str(e, index(path, i))
		if !ok {
			continue
		}
		name, val, found := strings.Cut(s, "=")
		if !found {
			c.errorf(e.Range, index(path, i), "%q is not NAME=value", s)
			continue
		}
		if tn := strings.TrimSpace(name); tn != name {
			// "NAME = value", as some examples write it, means NAME.
			tv := strings.TrimSpace(val)
			c.warnf(e.Range, index(path, i), "%q has spaces around '=': read as %s=%s", s, tn, tv)
			name, val = tn, tv
		}
		c.putEnv(j, name, val, e.Range, e.Range, index(path, i))
	}
}

// bacalhauEnv translates the task's Env, a map of names to values. A
// value "env:NAME" reads NAME from the environment of Bacalhau's compute
// node; muster has no such reference.
func (c *conv) bacalhauEnv(j *job, v *lang.Value, path string) {
	if v.Kind != lang.Map {
		c.envList(j, v, path)
		return
	}
	c.eachString(v, path, func(f *lang.Field, s, p string) {
		if name, ref := strings.CutPrefix(s, "env:"); ref {
			c.errorf(f.Value.Range, p, "%q reads %s from the environment of the Bacalhau node, which muster tasks do not see: write the value, or keep it as a secret and write secret:<namespace>/<name>", s, name)
			return
		}
		c.putEnv(j, f.Key, s, f.KeyRange, f.Value.Range, p)
	})
}

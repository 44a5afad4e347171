package importer

import (
	"strings"

	"github.com/muster-dev/muster/lang"
)

// expansoConfig translates the spec's config, the workload: a task
// written flat, or as a Bacalhau task (an engine object), or under a task
// key. A pipeline config (input, pipeline, output) is no task muster can
// run.
func (c *conv) expansoConfig(j *job, v *lang.Value, path, typ string) {
	cfg := c.object(v, path)
	if cfg == nil {
		return
	}
	if cfg.has("pipeline") || cfg.has("input") && cfg.has("output") {
		c.errorf(v.Range, path, "the config is an Expanso Edge pipeline (input, pipeline, output), and muster runs no pipelines: "+
			"run the pipeline's program as a docker, exec or wasm task")
		cfg.rest(func(string) string { return "" })
		return
	}
	if tv, tp := cfg.value("task"); tv != nil {
		cfg.rest(func(string) string { return "not a field of a config that holds a task" })
		if cfg = c.object(tv, tp); cfg == nil {
			return
		}
	}
	if ev, _ := cfg.value("engine"); ev != nil && ev.Kind == lang.Map {
		c.bacalhauTask(j, cfg, typ)
		return
	}
	c.flatTask(j, cfg)
}

// flatTask translates a task written flat: {engine, image, entrypoint,
// cmd, env, workdir, network, resources, inputs, outputs}. The engine is
// docker when there is an image, else exec.
func (c *conv) flatTask(j *job, t *obj) {
	engine, ev, ep := t.stringValue("engine", "driver")
	r := t.v.Range
	if ev != nil {
		r = ev.Range
	}
	switch {
	case ev != nil:
		engine = strings.ToLower(strings.TrimSpace(engine))
	case t.has("image"):
		engine = "docker"
	default:
		engine = "exec"
	}
	switch engine {
	case "docker", "exec", "wasm":
		j.set("task.engine", text(engine, r))
	default:
		c.errorf(r, ep, "unknown engine %q: muster runs docker, wasm and exec tasks", engine)
	}
	if image, iv, _ := t.stringValue("image"); iv != nil {
		j.set("task.image", text(image, iv.Range))
	}
	c.stringList(j, "task.entrypoint", t, "entrypoint")
	c.stringList(j, "task.cmd", t, "cmd", "command", "args", "parameters")
	if v, p := t.value("env", "environment", "environment_variables"); v != nil {
		c.bacalhauEnv(j, v, p)
	}
	if wd, wv, _ := t.stringValue("workdir", "working_dir", "working_directory"); wv != nil && wd != "" {
		j.set("task.workdir", text(wd, wv.Range))
	}
	c.flatNetwork(j, t)
	if v, p := t.value("resources"); v != nil {
		c.bacalhauResources(j, v, p)
	}
	var none wasmModule
	if v, p := t.value("inputs", "input_sources"); v != nil {
		for i, in := range c.list(v, p) {
			c.inputSource(j, in, index(p, i), &none)
		}
	}
	if v, p := t.value("outputs", "result_paths"); v != nil {
		for i, out := range c.list(v, p) {
			c.resultPath(j, out, index(p, i))
		}
	}
	t.rest(func(string) string { return "not a field of a task muster knows" })
}

// flatNetwork translates network, a mode (none, bridge, host) or a
// Bacalhau network object.
func (c *conv) flatNetwork(j *job, t *obj) {
	v, p := t.value("network")
	if v == nil {
		return
	}
	if v.Kind == lang.Map {
		c.bacalhauNetwork(j, v, p)
		return
	}
	if s, ok := c.str(v, p); ok {
		c.networkMode(j, s, v, p)
	}
}

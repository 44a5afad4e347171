package importer

import (
	"strings"
	"time"

	"github.com/muster-dev/muster/lang"
)

// Expanso: types.Job, {id, spec: {...}, ...} as the API answers it, or
// its spec alone (types.JobSpec), as expanso-cli job deploy takes it. The
// spec's rollout (deployment in older releases) is muster's rollout, field
// for field but one: max_parallel counts nodes in Expanso and a percentage
// of the target nodes in muster. The workload is the spec's config: a
// task, written flat ({image, cmd, env, resources}) or as a Bacalhau task
// ({engine: {type, params}, ...}).

// expansoJob translates one Expanso job.
func expansoJob(c *conv, src *obj, j *job) {
	if !src.has("spec") || src.has("name") {
		expansoSpec(c, src, j)
		return
	}
	v, p := src.value("spec")
	src.drop("set by the Expanso orchestrator, not by the job's author",
		"id", "state", "status", "version", "revision", "created_at", "updated_at", "modified_at", "create_time", "modify_time")
	src.drop("an option of the request that submits the job", "dry_run", "force")
	src.rest(func(string) string { return "not a field of an Expanso job (id, spec)" })
	if spec := c.object(v, p); spec != nil {
		expansoSpec(c, spec, j)
	}
}

// expansoSpec translates a types.JobSpec.
func expansoSpec(c *conv, s *obj, j *job) {
	if v, p := s.value("name"); v != nil {
		c.setName(j, "name", v, p)
	}
	if v, p := s.value("namespace"); v != nil {
		c.setName(j, "namespace", v, p)
	}
	typ := "batch"
	if v, p := s.value("type"); v != nil {
		if strings.EqualFold(strings.TrimSpace(v.Str), "pipeline") {
			c.errorf(v.Range, p, "a pipeline job runs an Expanso Edge pipeline (config holds its input, pipeline and output), and muster runs no pipelines: "+
				"run the pipeline's program as a docker, exec or wasm task of a daemon job")
			s.drop("", "config")
			typ = ""
		} else {
			typ = c.jobType(j, v, p)
		}
	}
	if d, dv, _ := s.stringValue("description"); dv != nil && d != "" {
		j.set("description", text(d, dv.Range))
	}
	meta, mp := s.value("meta")
	c.stringMap(j, "meta", meta, mp, c.reserved("expanso.io/", "reserved for Expanso's own use"))
	if labels, lp := s.value("labels"); labels != nil {
		c.labels(j, labels, lp)
	}
	if v, p := s.value("priority"); v != nil {
		c.priority(j, v, p)
	}
	if rp, rv, _ := s.stringValue("restart_policy"); rv != nil && rp != "" {
		j.set("restart_policy", text(strings.ToLower(rp), rv.Range))
	}
	if v, p := s.value("count"); v != nil {
		c.count(j, typ, v, p)
	}
	if v, p := s.value("selector", "node_selector"); v != nil {
		c.expansoSelector(j, v, p)
	}
	if v, p := s.value("constraints"); v != nil {
		c.expressions(j, v, p)
	}
	c.expansoRollout(j, s)
	if v, p := s.value("timeouts"); v != nil {
		c.expansoTimeouts(j, v, p)
	}
	if typ == "" {
		// The type was wrong: what the config runs does not matter yet.
	} else if v, p := s.value("config"); v != nil {
		c.expansoConfig(j, v, p, typ)
	} else {
		c.errorf(s.v.Range, s.sub("config"), "the job has no config: muster needs what it runs (an image, or a cmd)")
	}
	s.rest(func(string) string { return "not a field of an Expanso job spec" })
}

// expansoSelector translates the selector: {match_labels,
// match_expressions, match_ids}, a label selector string ("env=prod,
// region in (a,b)"), or a list of requirements.
func (c *conv) expansoSelector(j *job, v *lang.Value, path string) {
	switch v.Kind {
	case lang.String:
		for _, e := range splitSelector(v.Str) {
			j.add("selector.match_expressions", text(e, v.Range))
		}
	case lang.List:
		c.expressions(j, v, path)
	default:
		s := c.object(v, path)
		if s == nil {
			return
		}
		labels, lp := s.value("match_labels", "labels")
		if labels != nil {
			c.stringMap(j, "selector.match_labels", labels, lp, nil)
		}
		if e, ep := s.value("match_expressions", "expressions"); e != nil {
			c.expressions(j, e, ep)
		}
		if ids, ip := s.value("match_ids", "node_ids", "nodes"); ids != nil {
			if ss, ok := c.strs(ids, ip); ok && len(ss) > 0 {
				j.set("selector.match_ids", texts(ss, ids.Range))
			}
		}
		s.rest(func(string) string { return "not a field of a selector (match_labels, match_expressions, match_ids)" })
	}
}

// expressions translates a list of match expressions: strings, or
// requirements {key, operator, values}.
func (c *conv) expressions(j *job, v *lang.Value, path string) {
	for i, e := range c.list(v, path) {
		if e.Kind == lang.String {
			j.add("selector.match_expressions", text(strings.TrimSpace(e.Str), e.Range))
			continue
		}
		c.requirement(j, e, index(path, i))
	}
}

// splitSelector splits a label selector at the commas outside
// parentheses.
func splitSelector(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if last := strings.TrimSpace(s[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out
}

// expansoRollout translates the rollout (or deployment, its name in
// older releases).
func (c *conv) expansoRollout(j *job, s *obj) {
	v, p := s.value("rollout")
	if dv, dp := s.value("deployment"); dv != nil {
		if v != nil {
			c.errorf(dv.Range, dp, "the spec has both rollout and deployment: keep one")
			return
		}
		v, p = dv, dp
	}
	r := c.object(v, p)
	if r == nil {
		return
	}
	if st, sv, _ := r.stringValue("strategy"); sv != nil && st != "" {
		j.set("rollout.strategy", text(strings.ToLower(st), sv.Range))
	}
	c.maxParallel(j, r)
	for _, k := range []string{"canary_count", "canary_percent", "max_failed_nodes"} {
		c.intField(j, "rollout."+k, r, k)
	}
	c.numberField(j, "rollout.max_failed_nodes_percent", r, "max_failed_nodes_percent")
	c.boolField(j, "rollout.auto_promote", r, "auto_promote")
	c.boolField(j, "rollout.no_auto_rollback", r, "no_auto_rollback")
	if hv, hp := r.value("health_check"); hv != nil {
		c.healthCheck(j, hv, hp)
	}
	r.rest(func(string) string { return "not a field of an Expanso rollout" })
}

// maxParallel translates max_parallel, a number of nodes per wave (0 or
// none: all at once), into muster's percentage of the target nodes. All
// at once is 100%; n nodes is written as n%, which is at most n nodes a
// wave on up to 100 target nodes, with a warning.
func (c *conv) maxParallel(j *job, r *obj) {
	v, p := r.value("max_parallel")
	if v == nil {
		j.set("rollout.max_parallel", integerValue(100, r.v.Range))
		return
	}
	n, ok := c.integer(v, p)
	switch {
	case !ok:
	case n <= 0 || n >= 100:
		j.set("rollout.max_parallel", integerValue(100, v.Range))
		if n > 100 {
			c.warnf(v.Range, p, "%d nodes a wave is written as 100%% of the target nodes, all of them at once", n)
		}
	default:
		j.set("rollout.max_parallel", integerValue(n, v.Range))
		c.warnf(v.Range, p, "Expanso counts %d nodes a wave; muster counts a percentage of the target nodes: written as %d%%, which is at most %d nodes a wave on up to 100 target nodes", n, n, n)
	}
}

// healthCheck translates the health check. Its durations are Go duration
// strings or, as Go encodes a time.Duration, integer nanoseconds.
func (c *conv) healthCheck(j *job, v *lang.Value, path string) {
	h := c.object(v, path)
	if h == nil {
		return
	}
	for _, k := range []string{"deadline", "min_healthy_time", "interval"} {
		dv, dp := h.value(k)
		if dv == nil {
			continue
		}
		d, ok := c.durationOf(dv, dp, time.Nanosecond)
		if !ok {
			continue
		}
		if dv.Kind == lang.Number && d > 0 && d < time.Millisecond {
			c.warnf(dv.Range, dp, "%s is %v: Expanso reads a number as nanoseconds; write %q if you meant seconds", k, d, dv.Number+"s")
		}
		j.set("rollout.health_check."+k, text(d.String(), dv.Range))
	}
	c.intField(j, "rollout.health_check.failure_threshold", h, "failure_threshold")
	c.intField(j, "rollout.health_check.success_threshold", h, "success_threshold")
	c.numberField(j, "rollout.health_check.max_error_rate", h, "max_error_rate")
	h.rest(func(string) string { return "not a field of an Expanso health check" })
}

// expansoTimeouts translates the timeouts, in seconds.
func (c *conv) expansoTimeouts(j *job, v *lang.Value, path string) {
	t := c.object(v, path)
	if t == nil {
		return
	}
	for _, k := range []string{"execution", "queue", "total"} {
		if tv, tp := t.value(k, k+"_timeout"); tv != nil {
			c.timeout(j, "timeouts."+k, tv, tp)
		}
	}
	t.rest(func(string) string { return "not a timeout muster knows (execution, queue, total)" })
}

// intField writes the whole number field key of o at the muster path.
func (c *conv) intField(j *job, path string, o *obj, key string) {
	if v, p := o.value(key); v != nil {
		if n, ok := c.integer(v, p); ok {
			j.set(path, integerValue(n, v.Range))
		}
	}
}

// numberField writes the number field key of o at the muster path.
func (c *conv) numberField(j *job, path string, o *obj, key string) {
	v, p := o.value(key)
	if v == nil {
		return
	}
	if v.Kind != lang.Number {
		c.errorf(v.Range, p, "want a number, not %s", v.Describe())
		return
	}
	j.set(path, &lang.Value{Kind: lang.Number, Number: v.Number, Range: v.Range})
}

// boolField writes the boolean field key of o at the muster path.
func (c *conv) boolField(j *job, path string, o *obj, key string) {
	if v, p := o.value(key); v != nil {
		if b, ok := c.boolean(v, p); ok {
			j.set(path, flag(b, v.Range))
		}
	}
}

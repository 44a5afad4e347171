package validate

import (
	"fmt"
	"math"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

func (d *decoder) rollout(v *lang.Value, r *schema.Rollout, jobType schema.JobType, typeKnown bool) {
	fs, ok := d.fields(v, "rollout", rolloutFields)
	if !ok {
		return
	}
	strategyKnown := typeKnown
	if f := fs["strategy"]; f != nil && present(f.Value) {
		s, ok := d.enum(f.Value, "rollout.strategy", "immediate", "rolling", "canary")
		r.Strategy, strategyKnown = schema.Strategy(s), ok
	} else if typeKnown {
		r.Strategy = schema.DefaultStrategy(jobType)
	}
	if f := fs["max_parallel"]; f != nil && present(f.Value) {
		r.MaxParallel, _ = d.integer(f.Value, "rollout.max_parallel", 1, 100)
	}
	count, percent := fs["canary_count"], fs["canary_percent"]
	canaryOnly := false
	for _, f := range []*lang.Field{count, percent} {
		if f != nil && present(f.Value) && strategyKnown && r.Strategy != schema.Canary {
			d.errorf(f.KeyRange, "rollout."+f.Key, "rollout.%s applies only to the canary strategy; this rollout is %q", f.Key, r.Strategy)
			canaryOnly = true
		}
	}
	// Zero means unset for both, so the canonical form (which writes the
	// unused one as 0) reads back as it was written.
	if !canaryOnly {
		if percent != nil && present(percent.Value) {
			r.CanaryPercent, _ = d.integer(percent.Value, "rollout.canary_percent", 0, 100)
		}
		if count != nil && present(count.Value) {
			lo := int64(1)
			if r.CanaryPercent > 0 {
				lo = 0
			}
			r.CanaryCount, _ = d.integer(count.Value, "rollout.canary_count", lo, maxSafeInt)
		}
		if r.CanaryCount > 0 && r.CanaryPercent > 0 {
			d.errorf(percent.KeyRange, "rollout.canary_percent", "set canary_count or canary_percent, not both")
		}
	}
	if f := fs["auto_promote"]; f != nil && present(f.Value) {
		r.AutoPromote, _ = d.boolean(f.Value, "rollout.auto_promote")
	}
	if f := fs["health_check"]; f != nil && present(f.Value) {
		deadline, ok := d.healthCheck(f.Value, &r.HealthCheck)
		if ok && typeKnown && jobType.LongRunning() {
			d.feasible(&r.HealthCheck, deadline, f, v.Range)
		}
	}
	if f := fs["max_failed_nodes"]; f != nil && present(f.Value) {
		r.MaxFailedNodes, _ = d.integer(f.Value, "rollout.max_failed_nodes", 0, maxSafeInt)
	}
	if f := fs["max_failed_nodes_percent"]; f != nil && present(f.Value) {
		r.MaxFailedNodesPercent, _ = d.number(f.Value, "rollout.max_failed_nodes_percent", 0, 100)
	}
	if f := fs["no_auto_rollback"]; f != nil && present(f.Value) {
		r.NoAutoRollback, _ = d.boolean(f.Value, "rollout.no_auto_rollback")
	}
}

// healthCheck decodes the health_check map v into h. It returns the
// deadline field (nil when not written) and whether v held no error.
func (d *decoder) healthCheck(v *lang.Value, h *schema.HealthCheck) (*lang.Field, bool) {
	const p = "rollout.health_check"
	fs, ok := d.fields(v, p, healthCheckFields)
	if !ok {
		return nil, false
	}
	before := len(d.diags)
	d.duration(fs["deadline"], p+".deadline", &h.Deadline)
	d.duration(fs["min_healthy_time"], p+".min_healthy_time", &h.MinHealthyTime)
	n := len(d.diags)
	d.duration(fs["interval"], p+".interval", &h.Interval)
	intervalOK := len(d.diags) == n
	if f := fs["failure_threshold"]; f != nil && present(f.Value) {
		h.FailureThreshold, _ = d.integer(f.Value, p+".failure_threshold", 1, maxSafeInt)
	}
	if f := fs["success_threshold"]; f != nil && present(f.Value) {
		h.SuccessThreshold, _ = d.integer(f.Value, p+".success_threshold", 1, maxSafeInt)
	}
	if f := fs["max_error_rate"]; f != nil && present(f.Value) {
		h.MaxErrorRate, _ = d.number(f.Value, p+".max_error_rate", 0, 1)
	}
	ok = len(d.diags) == before
	if f := fs["probe"]; f != nil && present(f.Value) {
		h.Probe = d.probe(f, h, intervalOK)
	}
	return fs["deadline"], ok
}

// feasible checks the health-check feasibility rule of docs/spec.md section 2 for a
// service or daemon job: an execution becomes healthy no sooner than
// min_healthy_time, nor before success_threshold checks passed, one every
// interval; a deadline shorter than both can never be met, and every
// rollout of the job would fail. The error is at the deadline when it is
// written, else at the health_check key (or the first of hc's value and
// the rollout map at that has a position: a CUE file's defaults have none).
func (d *decoder) feasible(h *schema.HealthCheck, deadline, hc *lang.Field, rollout lang.Range) {
	checks, overflow := times(h.SuccessThreshold, h.Interval)
	need := max(h.MinHealthyTime, checks)
	if !overflow && h.Deadline >= need {
		return
	}
	const p = "rollout.health_check.deadline"
	var ranges []lang.Range
	written := deadline != nil && present(deadline.Value) && !deadline.Value.Range.IsZero()
	if written {
		ranges = append(ranges, deadline.Value.Range)
	}
	r := firstRange(append(ranges, hc.KeyRange, hc.Value.Range, rollout)...)
	is := h.Deadline.String()
	if !written {
		is += " (the default)"
	}
	terms := fmt.Sprintf("max(min_healthy_time %s, success_threshold %d × interval %s)", h.MinHealthyTime, h.SuccessThreshold, h.Interval)
	if overflow {
		d.errorf(r, p, "%s is %s, but %s is longer than any duration: no execution could ever become healthy; lower success_threshold or the interval", p, is, terms)
		return
	}
	d.errorf(r, p, "%s is %s, shorter than %s = %s: no execution could ever become healthy in time; make the deadline at least %s", p, is, terms, need, need)
}

// times returns n × d and whether it overflows a Duration.
func times(n int, d schema.Duration) (schema.Duration, bool) {
	if n <= 0 || d <= 0 {
		return 0, false
	}
	if int64(n) > math.MaxInt64/int64(d) {
		return 0, true
	}
	return schema.Duration(int64(n) * int64(d)), false
}

// firstRange returns the first of ranges that carries a position.
func firstRange(ranges ...lang.Range) lang.Range {
	for _, r := range ranges {
		if !r.IsZero() {
			return r
		}
	}
	if len(ranges) > 0 {
		return ranges[len(ranges)-1]
	}
	return lang.Range{}
}

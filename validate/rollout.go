package validate

import (
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
		d.healthCheck(f.Value, &r.HealthCheck)
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

func (d *decoder) healthCheck(v *lang.Value, h *schema.HealthCheck) {
	const p = "rollout.health_check"
	fs, ok := d.fields(v, p, healthCheckFields)
	if !ok {
		return
	}
	d.duration(fs["deadline"], p+".deadline", &h.Deadline)
	d.duration(fs["min_healthy_time"], p+".min_healthy_time", &h.MinHealthyTime)
	d.duration(fs["interval"], p+".interval", &h.Interval)
	if f := fs["failure_threshold"]; f != nil && present(f.Value) {
		h.FailureThreshold, _ = d.integer(f.Value, p+".failure_threshold", 1, maxSafeInt)
	}
	if f := fs["success_threshold"]; f != nil && present(f.Value) {
		h.SuccessThreshold, _ = d.integer(f.Value, p+".success_threshold", 1, maxSafeInt)
	}
	if f := fs["max_error_rate"]; f != nil && present(f.Value) {
		h.MaxErrorRate, _ = d.number(f.Value, p+".max_error_rate", 0, 1)
	}
}

package validate

// The fields each object of a job may hold, in the order of docs/spec.md section 2.
var (
	jobFields         = []string{"api_version", "name", "namespace", "type", "description", "labels", "meta", "priority", "count", "restart_policy", "selector", "task", "rollout", "timeouts"}
	selectorFields    = []string{"match_labels", "match_expressions", "match_ids"}
	taskFields        = []string{"engine", "image", "entrypoint", "cmd", "env", "workdir", "network", "resources", "inputs", "outputs"}
	resourcesFields   = []string{"cpus", "memory"}
	inputFields       = []string{"source", "target"}
	outputFields      = []string{"path"}
	rolloutFields     = []string{"strategy", "max_parallel", "canary_count", "canary_percent", "auto_promote", "health_check", "max_failed_nodes", "max_failed_nodes_percent", "no_auto_rollback"}
	healthCheckFields = []string{"deadline", "min_healthy_time", "interval", "failure_threshold", "success_threshold", "max_error_rate"}
	timeoutsFields    = []string{"execution", "queue", "total"}
)

// homes maps a field name to the paths where it belongs, for "it belongs in"
// hints when a field is written at the wrong level.
var homes = func() map[string][]string {
	m := map[string][]string{}
	add := func(path string, names []string) {
		for _, n := range names {
			m[n] = append(m[n], join(path, n))
		}
	}
	add("", jobFields)
	add("selector", selectorFields)
	add("task", taskFields)
	add("task.resources", resourcesFields)
	add("task.inputs[]", inputFields)
	add("task.outputs[]", outputFields)
	add("rollout", rolloutFields)
	add("rollout.health_check", healthCheckFields)
	add("timeouts", timeoutsFields)
	return m
}()

// elsewhere returns where a field misplaced at path belongs, or "".
func elsewhere(key, path string) string {
	for _, h := range homes[key] {
		if h != join(path, key) {
			return h
		}
	}
	return ""
}

package validate

import "strings"

// The fields each object of a job may hold, in the order of docs/spec.md section 2.
var (
	jobFields         = []string{"api_version", "name", "namespace", "type", "description", "labels", "meta", "priority", "count", "restart_policy", "selector", "task", "rollout", "timeouts", "schedule"}
	selectorFields    = []string{"match_labels", "match_expressions", "match_ids"}
	taskFields        = []string{"engine", "image", "entrypoint", "cmd", "env", "workdir", "network", "resources", "inputs", "outputs", "ports"}
	resourcesFields   = []string{"cpus", "memory"}
	inputFields       = []string{"source", "target"}
	outputFields      = []string{"path"}
	portFields        = []string{"name", "port", "to"}
	rolloutFields     = []string{"strategy", "max_parallel", "canary_count", "canary_percent", "auto_promote", "health_check", "max_failed_nodes", "max_failed_nodes_percent", "no_auto_rollback"}
	healthCheckFields = []string{"deadline", "min_healthy_time", "interval", "failure_threshold", "success_threshold", "max_error_rate", "probe"}
	probeFields       = []string{"http", "tcp", "exec", "timeout"}
	httpProbeFields   = []string{"port", "path", "status"}
	tcpProbeFields    = []string{"port"}
	execProbeFields   = []string{"cmd"}
	timeoutsFields    = []string{"execution", "queue", "total"}
	scheduleFields    = []string{"cron", "time_zone", "prohibit_overlap"}
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
	add("task.ports[]", portFields)
	add("rollout", rolloutFields)
	add("rollout.health_check", healthCheckFields)
	add("rollout.health_check.probe", probeFields)
	add("rollout.health_check.probe.http", httpProbeFields)
	add("rollout.health_check.probe.tcp", tcpProbeFields)
	add("rollout.health_check.probe.exec", execProbeFields)
	add("timeouts", timeoutsFields)
	add("schedule", scheduleFields)
	return m
}()

// elsewhere returns where a field misplaced at path belongs, or "". Of
// several homes it names those nearest to path (sharing the most leading
// parts with it; a home inside a list only counts as near from within that
// list), "A or B" when they tie, and the first one when none is near.
func elsewhere(key, path string) string {
	var best []string
	bestScore := 0
	for _, h := range homes[key] {
		if h == join(path, key) {
			continue
		}
		score := nearness(strings.TrimSuffix(strings.TrimSuffix(h, key), "."), path)
		switch {
		case best == nil || score > bestScore:
			best, bestScore = []string{h}, score
		case score == bestScore && score > 0:
			best = append(best, h)
		}
	}
	if len(best) < 2 {
		return strings.Join(best, "")
	}
	return strings.Join(best[:len(best)-1], ", ") + " or " + best[len(best)-1]
}

// nearness counts the leading parts that the object at parent (a catalog
// path, "task.ports[]") shares with the path written (with indexes,
// "task.ports[0]"). A parent inside a list counts only when path is inside
// that list too.
func nearness(parent, path string) int {
	if i := strings.Index(parent, "[]"); i >= 0 && !strings.HasPrefix(path, parent[:i]+"[") {
		return 0
	}
	a, b := strings.Split(parent, "."), strings.Split(path, ".")
	n := 0
	for n < len(a) && n < len(b) && a[n] != "" && strings.TrimSuffix(a[n], "[]") == stripIndex(b[n]) {
		n++
	}
	return n
}

// stripIndex drops the list indexes of one part of a path: "ports[0]" is
// "ports".
func stripIndex(part string) string {
	if i := strings.IndexByte(part, '['); i >= 0 {
		return part[:i]
	}
	return part
}

package cli

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/scrape"
	"github.com/muster-dev/muster/internal/wait"
)

// TestMetricsUnderDev scrapes /metrics of a real `muster dev` while a
// service rolls out and after it completed: the executions running on
// its node, the job deploying then running, the rollout's outcome and
// duration, the API requests by route, the store's operations, the
// placement and the local node's heartbeats. /metrics needs a token that
// reads every namespace.
func TestMetricsUnderDev(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	url := "http://" + dev.waitFor(apiRE) + "/metrics"
	node := dev.waitFor(`local node: (\S+)`)
	rec, ok := readDevRecord(filepath.Join(c.dir, ".muster"))
	if !ok || rec.Token == "" {
		t.Fatalf("no token recorded in %s", filepath.Join(c.dir, ".muster", devFile))
	}
	client := &http.Client{Timeout: 20 * time.Second}
	get := func(token string) (int, scrape.Families) {
		t.Helper()
		code, f, err := scrape.Get(client, url, token)
		if err != nil {
			t.Fatal(err)
		}
		return code, f
	}

	// min_healthy_time keeps the rollout under way for 4s after both
	// executions run.
	file := c.write("web.yaml", `name: web
type: service
count: 2
task:
  engine: exec
  cmd: [sh, -c, "exec sleep 300"]
rollout:
  health_check: {min_healthy_time: 4s, interval: 100ms}
`)
	c.ok("apply", "--auto-approve", "--detach", file)
	running := map[string]string{"state": "running", "node": node}
	deploying := map[string]string{"namespace": "default", "state": "deploying"}
	during, _ := wait.For(t, 30*time.Second, "2 executions running on "+node+" while the job deploys", func() (string, bool) {
		code, f := get(rec.Token)
		r, _ := f.Value("muster_executions", running)
		d, _ := f.Value("muster_jobs", deploying)
		return fmt.Sprintf("status %d: running %v, deploying %v", code, r, d), code == 200 && r == 2 && d == 1
	})
	t.Log(during)

	var f scrape.Families
	wait.For(t, 30*time.Second, "the rollout to complete", func() (string, bool) {
		_, f = get(rec.Token)
		n, _ := f.Value("muster_rollouts_total", map[string]string{"outcome": "completed"})
		return fmt.Sprintf("%v rollouts completed", n), n == 1
	})
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"muster_rollout_duration_seconds", map[string]string{"outcome": "completed"}, 1},
		{"muster_jobs", map[string]string{"namespace": "default", "state": "running"}, 1},
		{"muster_jobs", deploying, 0},
		{"muster_executions", running, 2},
		{"muster_nodes", map[string]string{"status": "ready"}, 1},
	} {
		if v, ok := f.Value(c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
	}{
		{"muster_http_requests_total", map[string]string{"method": "GET", "route": "/metrics", "code": "200"}},
		{"muster_http_requests_total", map[string]string{"method": "POST", "route": "/v1/jobs/{ns}/{name}/versions"}},
		{"muster_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/metrics"}},
		{"muster_store_operation_duration_seconds", map[string]string{"op": "list", "outcome": "ok"}},
		{"muster_store_operation_duration_seconds", map[string]string{"op": "update", "outcome": "ok"}},
		{"muster_store_operation_duration_seconds", map[string]string{"op": "publish", "outcome": "ok"}},
		{"muster_placement_duration_seconds", nil},
		{"muster_agent_heartbeats_total", map[string]string{"outcome": "ok"}},
		{"muster_node_heartbeat_age_seconds", map[string]string{"node": node}},
		{"go_goroutines", nil},
		{"process_resident_memory_bytes", nil},
	} {
		if v := f.Sum(c.name, c.labels); v <= 0 {
			t.Errorf("%s%v = %v, want more than 0", c.name, c.labels, v)
		}
	}
	for _, mf := range f["muster_http_requests_total"].GetMetric() {
		for _, l := range mf.GetLabel() {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), "/default/") {
				t.Errorf("a raw path is a route label: %v", mf)
			}
		}
	}

	// Authentication: a token that reads every namespace, nothing less.
	if code, _ := get(""); code != http.StatusUnauthorized {
		t.Errorf("/metrics without a token: %d, want 401", code)
	}
	scoped := strings.TrimSpace(c.ok("token", "create", "--namespace", "default", "--role", "read").stdout)
	if code, _ := get(scoped); code != http.StatusForbidden {
		t.Errorf("/metrics with a read token of namespace default: %d, want 403", code)
	}
	all := strings.TrimSpace(c.ok("token", "create", "--namespace", "*", "--role", "read").stdout)
	if code, f := get(all); code != http.StatusOK || f["muster_jobs"] == nil {
		t.Errorf("/metrics with a read token of every namespace: %d, want 200 with muster_jobs", code)
	}
}

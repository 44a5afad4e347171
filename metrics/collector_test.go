package metrics

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/expfmt"

	"github.com/muster-dev/muster/internal/scrape"
	"github.com/muster-dev/muster/state"
)

// openStore opens a fresh embedded store, closed with the test.
func openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(t.Context(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// commitJob records job ns/name in state st.
func commitJob(t *testing.T, st *state.Store, ns, name string, js state.JobState) {
	t.Helper()
	h, err := st.PutSpec(t.Context(), []byte(`{"namespace":"`+ns+`","name":"`+name+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CommitVersion(t.Context(), ns, name, h, 0, js); err != nil {
		t.Fatal(err)
	}
}

// execution records an execution of job ("ns/name") on node in state cs.
func execution(t *testing.T, st *state.Store, job, id, node string, cs state.ComputeState) {
	t.Helper()
	x := state.Execution{ID: id, JobID: job, JobVersion: 1, NodeID: node, Status: state.ExecutionStatus{ComputeState: cs}}
	if _, err := st.CreateExecution(t.Context(), x); err != nil {
		t.Fatal(err)
	}
}

// TestStoreCollector reads jobs, executions and nodes from a real store
// and checks every gauge, zeros included: ended executions are not
// counted, a node that never beat has no heartbeat age.
func TestStoreCollector(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, n := range []state.Node{
		{ID: "n1", Status: state.NodeReady, LastSeen: now.Add(-5 * time.Second)},
		{ID: "n2", Status: state.NodeDown, LastSeen: now.Add(-90 * time.Second)},
		{ID: "n3", Status: state.NodeReady},
	} {
		if _, err := st.PutNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	commitJob(t, st, "default", "web", state.StateRunning)
	commitJob(t, st, "default", "db", state.StateDeploying)
	commitJob(t, st, "team-a", "api", state.StateFailed)
	execution(t, st, "default/web", "w1", "n1", state.ComputeRunning)
	execution(t, st, "default/web", "w2", "n1", state.ComputeRunning)
	execution(t, st, "default/web", "w0", "n1", state.ComputeStopped)
	execution(t, st, "default/web", "w3", "n2", state.ComputeStarting)
	execution(t, st, "default/db", "d1", "n2", state.ComputePending)
	execution(t, st, "default/db", "d0", "n2", state.ComputeComplete)
	execution(t, st, "team-a/api", "a0", "n4", state.ComputeFailed)

	c := newStoreCollector(st)
	c.now = func() time.Time { return now }
	want := `
# HELP muster_node_heartbeat_age_seconds Seconds since each node last recorded a heartbeat, by this control plane's clock.
# TYPE muster_node_heartbeat_age_seconds gauge
muster_node_heartbeat_age_seconds{node="n1"} 5
muster_node_heartbeat_age_seconds{node="n2"} 90
# HELP muster_nodes Nodes by the status they last recorded (ready, down, ...).
# TYPE muster_nodes gauge
muster_nodes{status="down"} 1
muster_nodes{status="ready"} 2
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "muster_nodes", "muster_node_heartbeat_age_seconds"); err != nil {
		t.Error(err)
	}

	got := gatherOf(t, c)
	jobs := map[string]float64{}
	for _, ns := range []string{"default", "team-a"} {
		for _, s := range state.JobStates {
			jobs[ns+" "+string(s)] = 0
		}
	}
	jobs["default running"], jobs["default deploying"], jobs["team-a failed"] = 1, 1, 1
	wantSeries(t, got, "muster_jobs", "namespace", jobs)

	execs := map[string]float64{}
	for _, node := range []string{"n1", "n2", "n3"} {
		for _, s := range activeStates {
			execs[node+" "+string(s)] = 0
		}
	}
	execs["n1 running"], execs["n2 starting"], execs["n2 pending"] = 2, 1, 1
	// No ended state, no node of ended executions only.
	wantSeries(t, got, "muster_executions", "node", execs)
}

// wantSeries holds metric's series to want, and to no other: each key of
// want is "<first label's value> <state>".
func wantSeries(t *testing.T, got scrape.Families, metric, first string, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		a, s, _ := strings.Cut(k, " ")
		if v, ok := got.Value(metric, map[string]string{first: a, "state": s}); !ok || v != w {
			t.Errorf("%s{%s=%q,state=%q} = %v (present %v), want %v", metric, first, a, s, v, ok, w)
		}
	}
	if n := len(got[metric].GetMetric()); n != len(want) {
		t.Errorf("%s has %d series, want %d", metric, n, len(want))
	}
}

// gatherOf collects c into a registry of its own and returns the families
// as a scrape would parse them.
func gatherOf(t *testing.T, c *storeCollector) scrape.Families {
	t.Helper()
	b, err := testutil.CollectAndFormat(c, expfmt.TypeTextPlain, "muster_jobs", "muster_executions")
	if err != nil {
		t.Fatal(err)
	}
	f, err := scrape.Parse(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// failingJobs is a store whose listing of jobs fails.
type failingJobs struct{ *state.Store }

func (failingJobs) Jobs(context.Context) ([]state.JobStatus, error) {
	return nil, errors.New("no answer from JetStream")
}

// TestScrapeWithAFailedRead serves a scrape whose listing of jobs fails:
// the gauges that need it are left out, the rest is served, and the
// failure is counted.
func TestScrapeWithAFailedRead(t *testing.T) {
	t.Parallel()
	st := openStore(t)
	if _, err := st.PutNode(t.Context(), state.Node{ID: "n1", Status: state.NodeReady}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(failingJobs{st}, nil).Handler())
	t.Cleanup(srv.Close)
	code, got, err := scrape.Get(srv.Client(), srv.URL, "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("scrape: %d, %v", code, err)
	}
	for _, name := range []string{"muster_jobs", "muster_executions"} {
		if got[name] != nil {
			t.Errorf("%s served although the jobs could not be read", name)
		}
	}
	if v, ok := got.Value("muster_nodes", map[string]string{"status": "ready"}); !ok || v != 1 {
		t.Errorf("muster_nodes{status=ready} = %v, %v; want 1", v, ok)
	}
	if got["go_goroutines"] == nil || got["process_cpu_seconds_total"] == nil {
		t.Error("the Go and process collectors are not served")
	}
	code, got, err = scrape.Get(srv.Client(), srv.URL, "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("second scrape: %d, %v", code, err)
	}
	if v, _ := got.Value("promhttp_metric_handler_errors_total", map[string]string{"cause": "gathering"}); v != 1 {
		t.Errorf("promhttp_metric_handler_errors_total{cause=gathering} = %v after one failed scrape, want 1", v)
	}
}

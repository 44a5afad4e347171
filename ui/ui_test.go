package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

func TestNextPage(t *testing.T) {
	for _, tc := range []struct{ next, want string }{
		{"/ui/jobs/default/web", "/ui/jobs/default/web"},
		{"/ui/nodes?x=1", "/ui/nodes?x=1"},
		{"", "/ui/"},
		{"//evil.example/ui/", "/ui/"},
		{"/ui//evil.example", "/ui/"},
		{"https://evil.example/ui/", "/ui/"},
		{"/v1/jobs", "/ui/"},
		{"/ui/\\evil", "/ui/"},
		{"/ui/x\r\nSet-Cookie: a=b", "/ui/"},
	} {
		if got := nextPage(tc.next); got != tc.want {
			t.Errorf("nextPage(%q) = %q, want %q", tc.next, got, tc.want)
		}
	}
}

func TestProxied(t *testing.T) {
	for path, want := range map[string]bool{
		"/v1/events":                      true,
		"/v1/jobs":                        true,
		"/v1/jobs/default/web/executions": true,
		"/v1/nodes":                       true,
		"/v1/tokens":                      false,
		"/v1/secrets":                     false,
		"/v1/documents/sha256:00":         false,
		"/v1/check":                       false,
		"/v1/jobsx":                       false,
		"/v1/specs/sha256:00":             false,
		"/v1/nodes/n1/join":               false,
	} {
		if got := proxied(path); got != want {
			t.Errorf("proxied(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestSetStatus(t *testing.T) {
	canary := state.Rollout{Canary: []string{"a"}, Waves: [][]string{{"b"}, {"c"}}}
	plain := state.Rollout{Waves: [][]string{{"a"}, {"b"}, {"c"}}, Wave: 1}
	for _, tc := range []struct {
		name string
		r    state.Rollout
		want []string
	}{
		{"canary under way", with(canary, 0, 0, state.StateDeploying, ""), []string{"current", "pending", "pending"}},
		{"canary paused", with(canary, 0, 1, state.StateRolloutPaused, ""), []string{"done", "waiting", "pending"}},
		{"second wave", with(canary, 2, 2, state.StateDeploying, ""), []string{"done", "done", "current"}},
		{"failed in a wave", with(canary, 1, 1, state.StateRolloutFailed, state.OutcomeRolledBack), []string{"done", "not run", "not run"}},
		{"no canary, first wave", with(plain, 1, 0, state.StateDeploying, ""), []string{"current", "pending", "pending"}},
		{"no canary, done", with(plain, 3, 3, state.StateRunning, state.OutcomeCompleted), []string{"done", "done", "done"}},
	} {
		v := newRolloutView(tc.r, nil)
		var got []string
		for _, s := range v.Sets {
			got = append(got, s.Status)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: sets %v, want %v", tc.name, got, tc.want)
		}
	}
}

func with(r state.Rollout, wave, done int, st state.JobState, outcome string) state.Rollout {
	r.Wave, r.WavesDone, r.State, r.Outcome = wave, done, st, outcome
	return r
}

// TestRollupPlacesExecutions puts each execution of the rollout's version
// under its node, and none of another version.
func TestRolloutPlacesExecutions(t *testing.T) {
	r := state.Rollout{Version: 2, Waves: [][]string{{"a", "b"}}, Wave: 1}
	execs := []state.Execution{
		{ID: "x1", JobVersion: 2, NodeID: "a"},
		{ID: "x2", JobVersion: 1, NodeID: "a"},
		{ID: "x3", JobVersion: 2, NodeID: "b"},
	}
	v := newRolloutView(r, execs)
	nodes := v.Sets[0].Nodes
	if len(nodes) != 2 || len(nodes[0].Executions) != 1 || nodes[0].Executions[0].ID != "x1" || nodes[1].Executions[0].ID != "x3" {
		t.Errorf("nodes %+v", nodes)
	}
}

// TestPagesEscape renders what a task or a job file controls (messages,
// labels, values) as text.
func TestPagesEscape(t *testing.T) {
	p := parsePages()
	hostile := `<script>alert(1)</script>`
	live := jobLive{
		Job:        state.JobStatus{Namespace: "default", Name: "web", State: state.StateRunning, Message: hostile},
		Executions: []state.Execution{{ID: "x1", JobID: "default/web", NodeID: "n1", Status: state.ExecutionStatus{ComputeState: state.ComputeFailed, Message: hostile}}},
		Launches:   []state.Launch{{ID: "l1", State: "failed", Message: hostile}},
	}
	w := httptest.NewRecorder()
	p.execute(w, http.StatusOK, "job", "live", live)
	body := w.Body.String()
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("the live block does not escape a message:\n%s", body)
	}
	w = httptest.NewRecorder()
	p.execute(w, http.StatusOK, "nodes", "live", nodesView{Nodes: []api.NodeView{{Node: state.Node{ID: "n1", Labels: map[string]string{"x": hostile}}}}})
	if body := w.Body.String(); strings.Contains(body, "<script>") {
		t.Errorf("the nodes page does not escape a label:\n%s", body)
	}
}

// TestStaticStaysInside serves the embedded script and style, and no
// other embedded file, however the path is written.
func TestStaticStaysInside(t *testing.T) {
	h := New(http.NotFoundHandler())
	for path, want := range map[string]int{
		"/ui/static/ui.js":                        http.StatusOK,
		"/ui/static/ui.css":                       http.StatusOK,
		"/ui/static/../templates/layout.html":     http.StatusNotFound,
		"/ui/static/..%2ftemplates%2flayout.html": http.StatusNotFound,
		"/ui/static/%2e%2e/templates/login.html":  http.StatusNotFound,
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Code != want && !(want == http.StatusNotFound && w.Code/100 == 3) { // the mux redirects to the cleaned path, which serves no file
			t.Errorf("GET %s: %d, want %d", path, w.Code, want)
		}
		if strings.Contains(w.Body.String(), "{{define") {
			t.Errorf("GET %s serves a template", path)
		}
	}
}

func TestAgo(t *testing.T) {
	base := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now = func() time.Time { return base }
	t.Cleanup(func() { now = time.Now })
	for d, want := range map[time.Duration]string{
		5 * time.Second:  "5s ago",
		3 * time.Minute:  "3m ago",
		5 * time.Hour:    "5h ago",
		72 * time.Hour:   "3d ago",
		-2 * time.Second: "in 2s",
	} {
		if got := ago(base.Add(-d)); got != want {
			t.Errorf("ago(-%s) = %q, want %q", d, got, want)
		}
	}
	if got := ago(time.Time{}); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
}

// TestSessionCookie: the cookie is Secure over TLS, never readable by a
// script nor sent by another site, and holds any token, however written.
func TestSessionCookie(t *testing.T) {
	for _, tls := range []bool{false, true} {
		r := httptest.NewRequest("POST", "/ui/login", nil)
		if tls {
			r = httptest.NewRequest("POST", "https://muster.example/ui/login", nil)
		}
		w := httptest.NewRecorder()
		token := `a token; with "quotes" and spaces`
		setSession(w, r, token)
		c := w.Result().Cookies()[0]
		if c.Secure != tls || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/ui/" {
			t.Errorf("tls %v: cookie %+v", tls, c)
		}
		back := httptest.NewRequest("GET", "/ui/", nil)
		back.AddCookie(c)
		if got := tokenOf(back); got != token {
			t.Errorf("the cookie gives back %q, want %q", got, token)
		}
	}
}

package api

import (
	"bytes"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/muster-dev/muster/state"
)

func TestJobsAndSpecs(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)

	if jobs, err := c.Jobs(ctx); err != nil || jobs == nil || len(jobs) != 0 {
		t.Fatalf("Jobs on an empty store = %#v, %v; want an empty list", jobs, err)
	}
	if _, err := c.Job(ctx, "default", "web"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Job before commit: %v, want not found", err)
	}
	if _, err := c.History(ctx, "default", "web"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("History before commit: %v, want not found", err)
	}

	// Specs: stored bytes come back exactly; prefixes resolve.
	canonical := spec("web", 1)
	hash, err := c.PutSpec(ctx, canonical)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := c.PutSpec(ctx, canonical); err != nil || again != hash {
		t.Fatalf("PutSpec again = %q, %v; want %q", again, err, hash)
	}
	if b, err := c.Spec(ctx, hash); err != nil || !bytes.Equal(b, canonical) {
		t.Fatalf("Spec = %q, %v; want %q", b, err, canonical)
	}
	if got, err := c.ResolveSpec(ctx, hash[:len("sha256:")+12]); err != nil || got != hash {
		t.Fatalf("ResolveSpec = %q, %v; want %q", got, err, hash)
	}
	missing := "sha256:" + strings.Repeat("0", 64)
	if _, err := c.Spec(ctx, missing); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Spec of a missing hash: %v, want not found", err)
	}
	if _, err := c.ResolveSpec(ctx, strings.Repeat("0", 12)); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("ResolveSpec of a missing prefix: %v, want not found", err)
	}
	if _, err := c.CommitVersion(ctx, "default", "web", missing, 0, state.StateRunning); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("CommitVersion of a missing spec: %v, want not found", err)
	}

	// Versions and conflicts.
	st, err := c.CommitVersion(ctx, "default", "web", hash, 0, state.StateDeploying)
	if err != nil {
		t.Fatal(err)
	}
	if st.Namespace != "default" || st.Name != "web" || st.Version != 1 || st.Hash != hash || st.Revision != 1 || st.State != state.StateDeploying {
		t.Fatalf("CommitVersion = %+v", st)
	}
	_, err = c.CommitVersion(ctx, "default", "web", hash, 0, state.StateRunning)
	if !errors.Is(err, state.ErrConflict) || errors.Is(err, state.ErrNotFound) {
		t.Fatalf("CommitVersion on a stale revision: %v, want conflict", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusConflict || apiErr.Code != CodeConflict {
		t.Fatalf("conflict error = %#v", err)
	}
	if msg := err.Error(); strings.Contains(msg, "409") || !strings.Contains(msg, "job default/web") {
		t.Errorf("conflict message %q: want the store's message without the status", msg)
	}
	st2 := commit(t, c, "web", 2, st.Revision)
	if st2.Version != 2 {
		t.Fatalf("second commit = %+v", st2)
	}
	commit(t, c, "api", 1, 0)

	got, err := c.Job(ctx, "default", "web")
	if err != nil || got.Revision != st2.Revision || got.Hash != st2.Hash || !got.UpdatedAt.Equal(st2.UpdatedAt) {
		t.Fatalf("Job = %+v, %v; want %+v", got, err, st2)
	}
	jobs, err := c.Jobs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, j := range jobs {
		names = append(names, j.Namespace+"/"+j.Name)
	}
	if !slices.Equal(names, []string{"default/api", "default/web"}) {
		t.Fatalf("Jobs = %v", names)
	}
	versions, err := c.History(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	want, err := h.store.History(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].Hash != hash || versions[1].Version != 2 {
		t.Fatalf("History = %+v", versions)
	}
	for i := range want {
		if versions[i].Version != want[i].Version || versions[i].Hash != want[i].Hash || !versions[i].CreatedAt.Equal(want[i].CreatedAt) {
			t.Errorf("History[%d] = %+v, want %+v", i, versions[i], want[i])
		}
	}
}

func TestExecutionsAndLogs(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)
	commit(t, c, "web", 1, 0)

	if execs, err := c.Executions(ctx, "default", "web"); err != nil || execs == nil || len(execs) != 0 {
		t.Fatalf("Executions before any = %#v, %v; want an empty list", execs, err)
	}
	for _, id := range []string{"e1", "e2"} {
		_, err := h.store.CreateExecution(ctx, state.Execution{
			ID: id, JobID: "default/web", JobVersion: 1, NodeID: "n1",
			Outputs: []state.Document{{Path: "/out", Hash: "sha256:" + strings.Repeat("a", 64), Size: 3}},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want, err := h.store.Executions(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Executions(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("Executions = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.JobID != w.JobID || g.NodeID != w.NodeID || g.Status != w.Status ||
			g.Revision != w.Revision || !g.CreatedAt.Equal(w.CreatedAt) || !reflect.DeepEqual(g.Outputs, w.Outputs) {
			t.Errorf("Executions[%d] = %+v, want %+v", i, g, w)
		}
	}

	h.ctl.logs["default/web/e1/stdout"] = []byte("hello\nworld\n")
	h.ctl.logs["default/web/e1/stderr"] = []byte("oops\n")
	tests := []struct {
		id, stream string
		offset     int64
		want       string
		notFound   bool
	}{
		{"e1", "stdout", 0, "hello\nworld\n", false},
		{"e1", "stdout", 6, "world\n", false},
		{"e1", "stdout", 12, "", false},
		{"e1", "stderr", 0, "oops\n", false},
		{"e1", "", 0, "hello\nworld\n", false}, // stdout by default
		{"e2", "stdout", 0, "", true},
	}
	for _, tt := range tests {
		b, err := c.ReadLog(ctx, "default", "web", tt.id, tt.stream, tt.offset)
		if tt.notFound {
			if !errors.Is(err, state.ErrNotFound) {
				t.Errorf("ReadLog(%s, %s, %d): %v, want not found", tt.id, tt.stream, tt.offset, err)
			}
			continue
		}
		if err != nil || string(b) != tt.want {
			t.Errorf("ReadLog(%s, %s, %d) = %q, %v; want %q", tt.id, tt.stream, tt.offset, b, err, tt.want)
		}
	}
}

func TestNodes(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)

	if nodes, err := c.Nodes(ctx); err != nil || nodes == nil || len(nodes) != 0 {
		t.Fatalf("Nodes on an empty store = %#v, %v", nodes, err)
	}
	n := state.Node{ID: "node-a.example", Labels: map[string]string{"zone": "a"}, Address: "10.0.0.1:4748", Status: state.NodeReady}
	got, err := c.PutNode(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != n.ID || !reflect.DeepEqual(got.Labels, n.Labels) || got.Address != n.Address {
		t.Fatalf("PutNode = %+v", got)
	}
	if _, err := c.PutNode(ctx, state.Node{ID: "node-b"}); err != nil {
		t.Fatal(err)
	}
	nodes, err := c.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 2 || nodes[0].ID != "node-a.example" || nodes[0].Labels["zone"] != "a" || nodes[1].ID != "node-b" {
		t.Fatalf("Nodes = %+v", nodes)
	}
	if _, err := c.PutNode(ctx, state.Node{ID: "bad id"}); err == nil || !strings.Contains(err.Error(), "invalid node id") {
		t.Fatalf("PutNode with a bad id: %v", err)
	}
}

func TestControl(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)

	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := h.ctl.Info(ctx); !reflect.DeepEqual(info, want) {
		t.Fatalf("Info = %+v, want %+v", info, want)
	}

	// Control calls on a job that was never applied.
	if err := c.Rollout(ctx, "default", "web", 1, false); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Rollout of a missing job: %v", err)
	}
	if err := c.Promote(ctx, "default", "web"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Promote of a missing job: %v", err)
	}
	if _, err := c.Stop(ctx, "default", "web"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("Stop of a missing job: %v", err)
	}

	commit(t, c, "web", 1, 0)
	if err := c.Rollout(ctx, "default", "web", 1, true); err != nil {
		t.Fatal(err)
	}
	if err := c.Promote(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"e1", "e2", "e3"} {
		if _, err := h.store.CreateExecution(ctx, state.Execution{ID: id, JobID: "default/web", JobVersion: 1, NodeID: "n1"}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Stop(ctx, "default", "web"); err != nil || n != 3 {
		t.Fatalf("Stop = %d, %v; want 3", n, err)
	}
	rollouts, promoted := h.ctl.calls()
	if want := []string{"default/web@1 promote=true"}; !slices.Equal(rollouts, want) {
		t.Errorf("rollouts = %v, want %v", rollouts, want)
	}
	if want := []string{"default/web"}; !slices.Equal(promoted, want) {
		t.Errorf("promoted = %v, want %v", promoted, want)
	}

	// Rollout answers 202.
	status, code, body := h.raw(t, "POST", "/v1/jobs/default/web/rollout", "", `{"version":1}`)
	if status != http.StatusAccepted || code != "" || strings.TrimSpace(body) != "{}" {
		t.Errorf("POST rollout = %d %q %s", status, code, body)
	}
}

// TestBadRequests sends what the client would not, and checks the status
// and code of the answer.
func TestBadRequests(t *testing.T) {
	h := newHarness(t, "", nil)
	hash := "sha256:" + strings.Repeat("0", 64)
	big := `{"version":1,"pad":"` + strings.Repeat("x", maxJSONBody) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"bad namespace", "GET", "/v1/jobs/Default/web", "", 400, CodeBadRequest},
		{"bad name", "GET", "/v1/jobs/default/web_1", "", 400, CodeBadRequest},
		{"missing job", "GET", "/v1/jobs/default/web", "", 404, CodeNotFound},
		{"commit: not JSON", "POST", "/v1/jobs/default/web/versions", `{"hash":`, 400, CodeBadRequest},
		{"commit: no body", "POST", "/v1/jobs/default/web/versions", ``, 400, CodeBadRequest},
		{"commit: two values", "POST", "/v1/jobs/default/web/versions", `{} {}`, 400, CodeBadRequest},
		{"commit: bad hash", "POST", "/v1/jobs/default/web/versions", `{"hash":"sha256:xyz","state":"running"}`, 400, CodeBadRequest},
		{"commit: bad state", "POST", "/v1/jobs/default/web/versions", `{"hash":"` + hash + `","state":"sleeping"}`, 400, CodeBadRequest},
		{"commit: missing spec", "POST", "/v1/jobs/default/web/versions", `{"hash":"` + hash + `","state":"running"}`, 404, CodeNotFound},
		{"rollout: version 0", "POST", "/v1/jobs/default/web/rollout", `{"version":0}`, 400, CodeBadRequest},
		{"rollout: too large", "POST", "/v1/jobs/default/web/rollout", big, 413, CodeTooLarge},
		{"logs: bad stream", "GET", "/v1/jobs/default/web/executions/e1/logs?stream=stdin", "", 400, CodeBadRequest},
		{"logs: bad offset", "GET", "/v1/jobs/default/web/executions/e1/logs?offset=-1", "", 400, CodeBadRequest},
		{"logs: bad id", "GET", "/v1/jobs/default/web/executions/e.1/logs", "", 400, CodeBadRequest},
		{"events: bad name", "GET", "/v1/events?name=Web", "", 400, CodeBadRequest},
		{"spec: bad hash", "GET", "/v1/specs/sha256:abc", "", 400, CodeBadRequest},
		{"spec: no prefix", "GET", "/v1/specs", "", 400, CodeBadRequest},
		{"spec: short prefix", "GET", "/v1/specs?prefix=abc", "", 400, CodeBadRequest},
		{"spec: empty", "POST", "/v1/specs", "", 400, CodeBadRequest},
		{"spec: not JSON", "POST", "/v1/specs", "{", 400, CodeBadRequest},
		{"spec: too large", "POST", "/v1/specs", big, 413, CodeTooLarge},
		{"node: id mismatch", "PUT", "/v1/nodes/a", `{"id":"b"}`, 400, CodeBadRequest},
		{"node: bad label", "PUT", "/v1/nodes/a", `{"id":"a","labels":{"-x":"y"}}`, 400, CodeBadRequest},
		{"document: bad hash", "GET", "/v1/documents/xyz", "", 400, CodeBadRequest},
		{"document: missing", "GET", "/v1/documents/" + hash, "", 404, CodeNotFound},
		{"unknown route", "GET", "/v1/jobz", "", 404, CodeUnknownRoute},
		{"unknown method", "DELETE", "/v1/jobs", "", 404, CodeUnknownRoute},
		{"other version", "GET", "/v2/jobs", "", 404, CodeUnknownRoute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, body := h.raw(t, tt.method, tt.path, "", tt.body)
			if status != tt.status || code != tt.code {
				t.Errorf("%s %s = %d %q, want %d %q; body %s", tt.method, tt.path, status, code, tt.status, tt.code, body)
			}
		})
	}
	if _, _, body := h.raw(t, "GET", "/v1/jobz", "", ""); !strings.Contains(body, "GET /v1/jobz") {
		t.Errorf("unknown route body %s does not name the route", body)
	}
	if _, _, body := h.raw(t, "POST", "/v1/specs", "", big); !strings.Contains(body, "4 MiB") {
		t.Errorf("too large body %s does not name the limit", body)
	}
}

package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/muster-dev/muster/state"
)

// TestMetricsRoute serves GET /metrics through WithMetrics: only to the
// tokens that may read every namespace.
func TestMetricsRoute(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "muster_up 1\n") })
	srv := httptest.NewServer(NewServer(h.store, h.ctl, bootToken, WithMetrics(metrics)))
	t.Cleanup(srv.Close)
	h.srv = srv
	readAll := newToken(t, h, state.AllNamespaces, state.RoleRead)
	readDefault := newToken(t, h, "default", state.RoleRead)
	adminDefault := newToken(t, h, "default", state.RoleAdmin)
	join := newToken(t, h, state.AllNamespaces, state.RoleJoin)
	for _, c := range []struct {
		name, token string
		status      int
		mention     string
	}{
		{"no token", "", 401, "requires an API token"},
		{"a wrong token", "not-the-token", 401, "wrong API token"},
		{"a read token of one namespace", readDefault, 403, "needs a token for every namespace"},
		{"an admin token of one namespace", adminDefault, 403, "needs a token for every namespace"},
		{"a join token", join, 403, "needs role read"},
		{"a read token of every namespace", readAll, 200, "muster_up 1"},
		{"the bootstrap token", bootToken, 200, "muster_up 1"},
	} {
		status, _, body := h.raw(t, "GET", "/metrics", c.token, "")
		if status != c.status || !strings.Contains(body, c.mention) {
			t.Errorf("%s: %d %s, want %d with %q", c.name, status, body, c.status, c.mention)
		}
	}

	// Without WithMetrics there is no such route.
	plain := newHarness(t, "", nil)
	if status, code, _ := plain.raw(t, "GET", "/metrics", "", ""); status != 404 || code != CodeUnknownRoute {
		t.Errorf("GET /metrics without WithMetrics: %d %s, want 404 %s", status, code, CodeUnknownRoute)
	}
}

// TestInstrumentationSeesRoutes checks that WithInstrumentation wraps
// every request, those authentication refuses included, and names the
// route each matched by its pattern, "" for none.
func TestInstrumentationSeesRoutes(t *testing.T) {
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	var seen []string
	wrap := func(next http.Handler, route func(*http.Request) string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, route(r))
			mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}
	h := &harness{store: st, ctl: newFakeControl(st)}
	h.srv = httptest.NewServer(NewServer(st, h.ctl, bootToken, WithInstrumentation(wrap), WithMetrics(http.NotFoundHandler())))
	t.Cleanup(h.srv.Close)
	for _, c := range []struct {
		method, path, token string
		route               string
	}{
		{"GET", "/v1/jobs/default/web", bootToken, "GET /v1/jobs/{ns}/{name}"},
		{"GET", "/v1/jobs/default/web", "", "GET /v1/jobs/{ns}/{name}"},
		{"POST", "/v1/jobs/default/web/stop", bootToken, "POST /v1/jobs/{ns}/{name}/stop"},
		{"GET", "/metrics", bootToken, "GET /metrics"},
		{"GET", "/v1/no-such-route", bootToken, ""},
		{"PATCH", "/v1/jobs", bootToken, ""},
	} {
		mu.Lock()
		seen = nil
		mu.Unlock()
		h.raw(t, c.method, c.path, c.token, "")
		mu.Lock()
		got := seen
		mu.Unlock()
		if len(got) != 1 || got[0] != c.route {
			t.Errorf("%s %s: the instrumentation saw routes %q, want %q", c.method, c.path, got, c.route)
		}
	}
}

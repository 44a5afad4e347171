package api

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/muster-dev/muster/state"
)

// TestInProcessClientAuthenticates holds the in-process client to the
// server's authentication: a wrong token is refused as from outside, the
// namespace of a scoped token bounds what it reads, and failed attempts
// count against the client address given, not against the process.
func TestInProcessClientAuthenticates(t *testing.T) {
	h := newHarness(t, "boot", nil)
	commit(t, h.client, "web", 1, 0)
	handler := h.srv.Config.Handler

	jobs, err := NewInProcessClient(handler, "boot", "192.0.2.1:1").Jobs(ctxT(t))
	if err != nil || len(jobs) != 1 {
		t.Fatalf("jobs with the bootstrap token: %v %v", jobs, err)
	}
	team := newToken(t, h, "team", "read")
	if jobs, err := NewInProcessClient(handler, team, "192.0.2.1:1").Jobs(ctxT(t)); err != nil || len(jobs) != 0 {
		t.Errorf("a token of namespace team lists %v (%v), want none", jobs, err)
	}
	if _, err := NewInProcessClient(handler, team, "192.0.2.1:1").Job(ctxT(t), "default", "web"); status(err) != http.StatusForbidden {
		t.Errorf("a token of namespace team reads default/web: %v", err)
	}
	if _, err := NewInProcessClient(handler, "", "192.0.2.1:1").Jobs(ctxT(t)); status(err) != http.StatusUnauthorized {
		t.Errorf("no token: %v, want 401", err)
	}

	wrong := NewInProcessClient(handler, "nope", "192.0.2.7:1")
	var last error
	for range failBurst + 1 {
		_, last = wrong.Jobs(ctxT(t))
	}
	if status(last) != http.StatusTooManyRequests {
		t.Errorf("after %d wrong tokens: %v, want 429", failBurst+1, last)
	}
	if _, err := NewInProcessClient(handler, "nope", "192.0.2.8:1").Jobs(ctxT(t)); status(err) != http.StatusUnauthorized {
		t.Errorf("a wrong token from another address: %v, want 401", err)
	}
}

// status returns the HTTP status of an API error, 0 for another.
func status(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// BenchmarkJobsRead reads the jobs (20 of them) as the web UI does, through
// the in-process client, and as a command does, over loopback HTTP: the
// in-process client must cost no more than the direct way.
func BenchmarkJobsRead(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	h := NewServer(st, newFakeControl(st), "boot")
	srv := httptest.NewServer(h)
	defer srv.Close()
	storeJobs(b, st, 20)
	for _, tc := range []struct {
		name string
		c    *Client
	}{
		{"in-process", NewInProcessClient(h, "boot", "192.0.2.1:1")},
		{"loopback-http", NewClient(srv.URL, "boot")},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if jobs, err := tc.c.Jobs(ctx); err != nil || len(jobs) != 20 {
					b.Fatalf("%d jobs, %v", len(jobs), err)
				}
			}
		})
	}
}

package api

import (
	"errors"
	"net/http"
	"testing"
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

package api

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// TestUnavailableIsAskedAgain: a control plane that answers "unavailable"
// (a NATS leader election under way) is asked again until it answers,
// even for a request that is not safe to repeat: unavailable means that
// nothing was carried out.
func TestUnavailableIsAskedAgain(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			writeErrorCode(w, http.StatusServiceUnavailable, CodeUnavailable, "JetStream system temporarily unavailable")
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"stopped": 3})
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	defer c.Close()
	n, err := c.Stop(ctxT(t), "default", "web")
	if err != nil || n != 3 || calls.Load() != 3 {
		t.Fatalf("stop: %d, %v after %d calls; want 3 after 3 calls", n, err, calls.Load())
	}
}

// TestOtherErrorsAreNotAskedAgain: an internal error is answered as it
// is, at once.
func TestOtherErrorsAreNotAskedAgain(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		writeErrorCode(w, http.StatusInternalServerError, CodeInternal, "broken")
	}))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	defer c.Close()
	if _, err := c.Stop(ctxT(t), "default", "web"); err == nil || calls.Load() != 1 {
		t.Fatalf("stop: %v after %d calls; want the error after 1", err, calls.Load())
	}
}

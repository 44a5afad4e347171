package api

import (
	"errors"
	"net/http"
	"testing"

	"github.com/muster-dev/muster/state"
)

// TestRelay: a control plane that does not lead carries the control
// operations to the one that does over NATS, and errors keep their codes;
// with nobody answering, it says no control plane leads.
func TestRelay(t *testing.T) {
	h := newHarness(t, "", nil)
	ctx := ctxT(t)
	relay := Relay{NC: h.store.Conn()}
	if err := relay.Rollout(ctx, "default", "web", 1, false); !isCode(err, CodeUnavailable, http.StatusServiceUnavailable) {
		t.Fatalf("relay with no leader: %v, want code %s", err, CodeUnavailable)
	}

	sub, err := ServeRelay(h.store.Conn(), h.ctl)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	st := commit(t, h.client, "web", 1, 0)
	if err := relay.Rollout(ctx, "default", "web", st.Version, true); err != nil {
		t.Fatal(err)
	}
	if err := relay.Promote(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if rollouts, promoted := h.ctl.calls(); len(rollouts) != 1 || rollouts[0] != "default/web@1 promote=true" || len(promoted) != 1 {
		t.Fatalf("the leader got rollouts %v, promotions %v", rollouts, promoted)
	}
	if l, err := relay.Launch(ctx, "default", "web"); err != nil || l.ID != "m1" || l.Version != st.Version || l.Reason != state.LaunchManual {
		t.Fatalf("launch: %+v, %v", l, err)
	}
	if _, err := relay.Launch(ctx, "default", "missing"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("launch of a missing job: %v, want not found", err)
	}
	if n, err := relay.Stop(ctx, "default", "web"); err != nil || n != 0 {
		t.Fatalf("stop: %d, %v", n, err)
	}
	h.ctl.mu.Lock()
	h.ctl.logs["default/web/e1/stdout"] = []byte("hello\n")
	h.ctl.mu.Unlock()
	if b, err := relay.ReadLog(ctx, "default", "web", "e1", "stdout", 2); err != nil || string(b) != "llo\n" {
		t.Fatalf("log: %q, %v", b, err)
	}

	// The leader's errors come back with their codes.
	if err := relay.Promote(ctx, "default", "missing"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("promote of a missing job: %v, want not found", err)
	}
	if _, err := relay.ReadLog(ctx, "default", "web", "e2", "stdout", 0); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("log of an execution no node serves: %v, want not found", err)
	}
}

// TestRelayedErrorKeepsItsCode: the API answers an error the leader gave
// with the leader's status and code, not as an internal error.
func TestRelayedErrorKeepsItsCode(t *testing.T) {
	status, code := classify(&Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "no leader"})
	if status != http.StatusServiceUnavailable || code != CodeUnavailable {
		t.Errorf("classify: %d %s", status, code)
	}
}

func isCode(err error, code string, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code && e.Status == status
}

package api

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

// plane is one of two control planes sharing a store in a failover test:
// a real API server that counts the requests it got by "METHOD path", and
// whose hook (when set) sees each request first and may answer it.
type plane struct {
	srv  *httptest.Server
	mu   sync.Mutex
	got  map[string]int
	hook func(w http.ResponseWriter, r *http.Request) bool
}

func (p *plane) count(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[key]
}

func (p *plane) addr() string { return p.srv.Listener.Addr().String() }

// kill closes the plane's connections, streams included, and its listener.
func (p *plane) kill() {
	p.srv.CloseClientConnections()
	p.srv.Close()
}

// twoPlanes starts two API servers over one store and one control, as two
// control planes of a cluster, and returns them with that control.
func twoPlanes(t *testing.T) (a, b *plane, ctl *fakeControl) {
	t.Helper()
	h := newHarness(t, "", nil)
	ctl = h.ctl
	mk := func() *plane {
		p := &plane{got: map[string]int{}}
		api := NewServer(h.store, ctl, "")
		p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p.mu.Lock()
			p.got[r.Method+" "+r.URL.Path]++
			hook := p.hook
			p.mu.Unlock()
			if hook != nil && hook(w, r) {
				return
			}
			api.ServeHTTP(w, r)
		}))
		t.Cleanup(p.kill)
		return p
	}
	return mk(), mk(), ctl
}

// deadAddr returns an address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestFailoverMovesOnFromAClosedControlPlane uses the first control plane,
// closes it, and checks that reads go on at the second.
func TestFailoverMovesOnFromAClosedControlPlane(t *testing.T) {
	a, b, _ := twoPlanes(t)
	ctx := ctxT(t)
	c := NewClient(a.addr()+","+b.addr(), "")
	defer c.Close()
	commit(t, c, "web", 1, 0)
	if _, err := c.Jobs(ctx); err != nil {
		t.Fatal(err)
	}
	if a.count("GET /v1/jobs") != 1 || b.count("GET /v1/jobs") != 0 {
		t.Fatalf("before the loss: %d GETs at the first, %d at the second; want them all at the first", a.count("GET /v1/jobs"), b.count("GET /v1/jobs"))
	}
	a.kill()
	for i := 0; i < 3; i++ {
		js, err := c.Job(ctx, "default", "web")
		if err != nil || js.Version != 1 {
			t.Fatalf("Job after the first control plane closed = %+v, %v", js, err)
		}
	}
	if got := b.count("GET /v1/jobs/default/web"); got != 3 {
		t.Fatalf("the second control plane got %d GETs, want 3 (the client sticks to it)", got)
	}
	// The next commit goes to the second too.
	commit(t, c, "web", 2, 1)
	if b.count("POST /v1/jobs/default/web/versions") != 1 {
		t.Fatal("the commit after the loss did not reach the second control plane")
	}
}

// TestFailoverRepeatsOnlyWhatIsSafe cuts the connection of each call at the
// first control plane after it arrived there, and checks which calls are
// repeated at the second: reads and idempotent writes are, a rollout or a
// stop is not (it may have happened).
func TestFailoverRepeatsOnlyWhatIsSafe(t *testing.T) {
	a, b, ctl := twoPlanes(t)
	ctx := ctxT(t)
	setup := NewClient(b.addr(), "")
	defer setup.Close()
	st := commit(t, setup, "web", 1, 0)
	hash, err := setup.PutSpec(ctx, spec("web", 2))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		key      string // the request, "METHOD path"
		call     func(c *Client) error
		repeated bool
	}{
		{"Job", "GET /v1/jobs/default/web", func(c *Client) error { _, err := c.Job(ctx, "default", "web"); return err }, true},
		{"PutSpec", "POST /v1/specs", func(c *Client) error { _, err := c.PutSpec(ctx, spec("web", 3)); return err }, true},
		{"PutDocument", "POST /v1/documents", func(c *Client) error {
			_, _, err := c.PutDocument(ctx, strings.NewReader("a document"))
			return err
		}, true},
		{"CommitVersion", "POST /v1/jobs/default/web/versions", func(c *Client) error {
			_, err := c.CommitVersion(ctx, "default", "web", hash, st.Revision, state.StateRunning)
			return err
		}, true},
		{"Rollout", "POST /v1/jobs/default/web/rollout", func(c *Client) error { return c.Rollout(ctx, "default", "web", 1, false) }, false},
		{"Stop", "POST /v1/jobs/default/web/stop", func(c *Client) error { _, err := c.Stop(ctx, "default", "web"); return err }, false},
		{"Launch", "POST /v1/jobs/default/web/launch", func(c *Client) error { _, err := c.Launch(ctx, "default", "web"); return err }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.mu.Lock()
			a.hook = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method+" "+r.URL.Path != tt.key {
					return false
				}
				panic(http.ErrAbortHandler) // the connection drops with the request received
			}
			a.mu.Unlock()
			c := NewClient(a.addr()+","+b.addr(), "")
			defer c.Close()
			before := b.count(tt.key)
			err := tt.call(c)
			if a.count(tt.key) == 0 {
				t.Fatal("the first control plane never got the request")
			}
			repeated := b.count(tt.key) > before
			if repeated != tt.repeated {
				t.Fatalf("repeated at the second control plane: %v, want %v (err %v)", repeated, tt.repeated, err)
			}
			if tt.repeated && err != nil {
				t.Fatalf("repeated call failed: %v", err)
			}
			if !tt.repeated && (err == nil || !strings.Contains(err.Error(), a.addr())) {
				t.Fatalf("a call cut off at the first control plane = %v, want an error naming %s", err, a.addr())
			}
		})
	}
	if rollouts, _ := ctl.calls(); len(rollouts) != 0 {
		t.Fatalf("rollouts started: %v, want none", rollouts)
	}
}

// TestFailoverSendsAnythingPastAnUnreachableAddress checks that a request
// that is not safe to repeat goes to the next control plane when the first
// cannot be connected to (it surely never got it), and that an error names
// every address tried.
func TestFailoverSendsAnythingPastAnUnreachableAddress(t *testing.T) {
	_, b, ctl := twoPlanes(t)
	ctx := ctxT(t)
	dead := deadAddr(t)
	c := NewClient(dead+", "+b.addr(), "")
	defer c.Close()
	commit(t, c, "web", 1, 0)
	if err := c.Rollout(ctx, "default", "web", 1, false); err != nil {
		t.Fatalf("Rollout past an unreachable first address: %v", err)
	}
	if rollouts, _ := ctl.calls(); len(rollouts) != 1 {
		t.Fatalf("rollouts = %v, want one", rollouts)
	}

	dead2 := deadAddr(t)
	c2 := NewClient(dead+","+dead2, "")
	defer c2.Close()
	_, err := c2.Jobs(ctx)
	if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), dead2) {
		t.Fatalf("Jobs with no control plane answering = %v, want an error naming %s and %s", err, dead, dead2)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("the error %v does not match the dial errors", err)
	}
}

// TestFailoverOn503 has the first control plane answer 503, as one
// shutting down does: reads go to the second, a rollout does not.
func TestFailoverOn503(t *testing.T) {
	a, b, _ := twoPlanes(t)
	ctx := ctxT(t)
	a.hook = func(w http.ResponseWriter, r *http.Request) bool {
		writeErrorCode(w, http.StatusServiceUnavailable, CodeInternal, "shutting down")
		return true
	}
	c := NewClient(a.addr()+","+b.addr(), "")
	defer c.Close()
	if _, err := c.Jobs(ctx); err != nil {
		t.Fatalf("Jobs past a 503: %v", err)
	}
	c2 := NewClient(a.addr()+","+b.addr(), "")
	defer c2.Close()
	err := c2.Rollout(ctx, "default", "web", 1, false)
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("Rollout at a control plane answering 503 = %v, want that 503", err)
	}
	if b.count("POST /v1/jobs/default/web/rollout") != 0 {
		t.Fatal("a rollout answered 503 was repeated at the second control plane")
	}
}

// TestFailoverResumesTheEventStream follows events at the first control
// plane, closes it, and checks that the stream goes on at the second after
// an EventResumed event.
func TestFailoverResumesTheEventStream(t *testing.T) {
	a, b, ctl := twoPlanes(t)
	ctx := ctxT(t)
	c := NewClient(a.addr()+","+b.addr(), "")
	defer c.Close()
	events, err := c.Events(ctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	ctl.emit("default", "web", Event{Job: "default/web", Kind: "rollout_started", Version: 1})
	if ev := nextEvent(t, events); ev.Kind != "rollout_started" {
		t.Fatalf("first event = %+v", ev)
	}
	a.kill()
	ev := nextEvent(t, events)
	if ev.Kind != EventResumed || !strings.Contains(ev.Message, a.addr()) || !strings.Contains(ev.Message, b.addr()) {
		t.Fatalf("event after the loss = %+v, want %s naming both control planes", ev, EventResumed)
	}
	if b.count("GET /v1/events") != 1 {
		t.Fatalf("the second control plane got %d event subscriptions, want 1", b.count("GET /v1/events"))
	}
	ctl.emit("default", "web", Event{Job: "default/web", Kind: "finished", Version: 1, State: "running"})
	if ev := nextEvent(t, events); ev.Kind != "finished" {
		t.Fatalf("event at the second control plane = %+v", ev)
	}
}

// TestEventStreamOfOneControlPlaneEnds checks that a client of one control
// plane closes the channel when its stream breaks, as before failover.
func TestEventStreamOfOneControlPlaneEnds(t *testing.T) {
	a, _, _ := twoPlanes(t)
	c := NewClient(a.addr(), "")
	defer c.Close()
	events, err := c.Events(ctxT(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	a.kill()
	select {
	case ev, ok := <-events:
		if ok {
			t.Fatalf("event %+v after the only control plane closed, want the channel closed", ev)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the channel stayed open after the only control plane closed")
	}
}

// nextEvent returns the next event, failing the test when none comes in time.
func nextEvent(t *testing.T, events <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-events:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20s")
	}
	return Event{}
}

// TestFailoverLeavesAHungControlPlane follows events at a control plane
// that accepts the stream and then sends nothing, not even the heartbeat
// (a paused process, a cut network), and checks that the client takes the
// stream for broken and goes on at the second control plane.
func TestFailoverLeavesAHungControlPlane(t *testing.T) {
	defer func(idle time.Duration) { streamIdle = idle }(streamIdle)
	streamIdle = 300 * time.Millisecond
	a, b, ctl := twoPlanes(t)
	a.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v1/events" {
			return false
		}
		w.Header().Set("Content-Type", contentNDJSON)
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
		return true
	}
	c := NewClient(a.addr()+","+b.addr(), "")
	defer c.Close()
	events, err := c.Events(ctxT(t), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, events)
	if ev.Kind != EventResumed || !strings.Contains(ev.Message, b.addr()) {
		t.Fatalf("first event = %+v, want %s at the second control plane", ev, EventResumed)
	}
	wait.Until(t, 5*time.Second, "the second control plane to register the follow", func() bool { return ctl.subscribers() > 0 })
	ctl.emit("default", "web", Event{Job: "default/web", Kind: "finished", Version: 1, State: "running"})
	if ev := nextEvent(t, events); ev.Kind != "finished" {
		t.Fatalf("event at the second control plane = %+v", ev)
	}
}

// TestEventStreamBeats checks that a quiet event stream sends an empty
// line every streamBeat, which keeps a client from taking it for hung,
// and that the client skips those lines.
func TestEventStreamBeats(t *testing.T) {
	defer func(beat, idle time.Duration) { streamBeat, streamIdle = beat, idle }(streamBeat, streamIdle)
	streamBeat, streamIdle = 50*time.Millisecond, time.Second
	a, _, ctl := twoPlanes(t)
	resp, err := http.Get("http://" + a.addr() + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || line != "\n" {
		t.Fatalf("first line of a quiet stream = %q, %v; want an empty line", line, err)
	}
	c := NewClient(a.addr(), "")
	defer c.Close()
	events, err := c.Events(ctxT(t), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * streamIdle) // quiet but beating: the stream must stay
	ctl.emit("default", "web", Event{Job: "default/web", Kind: "finished", Version: 1, State: "running"})
	if ev := nextEvent(t, events); ev.Kind != "finished" {
		t.Fatalf("event after a quiet while = %+v, want finished", ev)
	}
}

// TestEventStreamThatNeverOpens follows events at a control plane that
// takes the request and never answers it: Events gives up after
// streamOpen with an unavailable error instead of waiting for ever.
func TestEventStreamThatNeverOpens(t *testing.T) {
	defer func(open time.Duration) { streamOpen = open }(streamOpen)
	streamOpen = 300 * time.Millisecond
	a, _, _ := twoPlanes(t)
	a.hook = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/v1/events" {
			return false
		}
		<-r.Context().Done()
		return true
	}
	c := NewClient(a.addr(), "")
	defer c.Close()
	began := time.Now()
	_, err := c.Events(ctxT(t), "default", "web")
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != CodeUnavailable {
		t.Fatalf("Events = %v, want unavailable", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("Events gave up after %s", took)
	}
}

// TestFailoverLeavesAControlPlaneThatDoesNotAnswer reads through a client
// of two control planes, the first of which takes the request and never
// answers (paused, cut off): the read is answered by the second after
// attemptHeaders.
func TestFailoverLeavesAControlPlaneThatDoesNotAnswer(t *testing.T) {
	defer func(d time.Duration) { attemptHeaders = d }(attemptHeaders)
	attemptHeaders = 300 * time.Millisecond
	a, b, _ := twoPlanes(t)
	a.hook = func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done()
		return true
	}
	c := NewClient(a.addr()+","+b.addr(), "")
	defer c.Close()
	began := time.Now()
	if _, err := c.Jobs(ctxT(t)); err != nil {
		t.Fatalf("Jobs: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("answered after %s", took)
	}
	if b.count("GET /v1/jobs") != 1 {
		t.Fatalf("the second control plane got %d reads, want 1", b.count("GET /v1/jobs"))
	}
}

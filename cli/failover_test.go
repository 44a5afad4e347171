package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

// deadAddr returns a loopback address nothing listens on.
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

// TestClientsTakeSeveralAddresses gives commands and an agent a control
// plane address nothing answers at, then a live one: they use the live one.
// With no live address, the error names every address tried.
func TestClientsTakeSeveralAddresses(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	live := dev.waitFor(apiRE)
	dead := deadAddr(t)
	c.env = "MUSTER_ADDR=" + dead + "," + live

	file := c.write("svc.yaml", `name: svc
type: service
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	// A rollout is not safe to repeat, but the dead address was never
	// reached: it goes to the live one.
	c.ok("apply", "--auto-approve", file)
	if st := c.waitState("svc", "running"); st.Version != 1 {
		t.Fatalf("status through %s = %+v, want version 1", c.env, st)
	}
	if out := c.ok("status").stdout; !strings.Contains(out, "svc") {
		t.Fatalf("muster status through %s:\n%s", c.env, out)
	}

	cfg := c.write("b.yaml", "id: node-b\n")
	c.start(`node node-b joined the control plane at `+live, "agent", "--server", dead+","+live, "--node-config", cfg, "--dir", "agent-b")
	c.waitNodes(1, "node-b")

	dead2 := deadAddr(t)
	c.env = "MUSTER_ADDR=" + dead + "," + dead2
	r := c.run("status")
	if r.code == 0 || !strings.Contains(r.stderr, dead) || !strings.Contains(r.stderr, dead2) {
		t.Fatalf("status with no control plane answering: %s\nwant a failure naming %s and %s", r, dead, dead2)
	}
}

// TestReachableNATS checks the rewriting of the NATS URLs a control plane
// gives agents: each of a cluster's, and only those listening everywhere.
func TestReachableNATS(t *testing.T) {
	tests := []struct {
		urls, server, want string
	}{
		{"nats://0.0.0.0:4222", "10.0.0.5:4747", "nats://10.0.0.5:4222"},
		{"nats://127.0.0.1:4222", "10.0.0.5:4747", "nats://127.0.0.1:4222"},
		{"nats://[::]:4222", "http://h1:4747", "nats://h1:4222"},
		{"nats://a:4222,nats://b:4222, nats://c:4222", "h:1", "nats://a:4222,nats://b:4222,nats://c:4222"},
		{"nats://0.0.0.0:4222,nats://b:4223", "h1:4747", "nats://h1:4222,nats://b:4223"},
	}
	for _, tt := range tests {
		got, err := reachableNATS(tt.urls, tt.server)
		if err != nil || got != tt.want {
			t.Errorf("reachableNATS(%q, %q) = %q, %v; want %q", tt.urls, tt.server, got, err, tt.want)
		}
	}
	if _, err := reachableNATS(" ", "h:1"); err == nil {
		t.Error("reachableNATS of no URL: no error")
	}
}

// eventsOnly is a control plane whose event stream the test writes.
type eventsOnly struct {
	api.Control
	ch chan api.Event
}

func (e eventsOnly) Events(context.Context, string, string) (<-chan api.Event, error) {
	return e.ch, nil
}

// storeWithSpec opens a store for the test with one spec stored, and
// returns it with the spec's hash.
func storeWithSpec(t *testing.T) (*state.Store, string) {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	hash, err := st.PutSpec(context.Background(), []byte(`{"name":"web"}`))
	if err != nil {
		t.Fatal(err)
	}
	return st, hash
}

// TestFollowRolloutAcrossAResumedStream checks that following a rollout
// reads the job's status when the event stream moved to another control
// plane: a rollout that ended meanwhile ends the following, one still
// going on is followed on.
func TestFollowRolloutAcrossAResumedStream(t *testing.T) {
	ctx := context.Background()
	st, hash := storeWithSpec(t)
	for _, tc := range []struct {
		name  string
		state state.JobState
		want  state.JobState // "": the resumed stream must be followed on
	}{
		{"ended-meanwhile", state.StateRunning, state.StateRunning},
		{"failed-meanwhile", state.StateFailed, state.StateFailed},
		{"still-deploying", state.StateDeploying, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := st.CommitVersion(ctx, "default", tc.name, hash, 0, tc.state); err != nil {
				t.Fatal(err)
			}
			ctl := eventsOnly{ch: make(chan api.Event, 4)}
			p := &plane{Backend: st, ctl: ctl}
			ctl.ch <- api.Event{Kind: api.EventResumed, Message: "the event stream moved"}
			if tc.want == "" {
				ctl.ch <- api.Event{Job: "default/" + tc.name, Version: 1, Kind: string(apply.Finished), State: string(state.StateRunning)}
			}
			var out bytes.Buffer
			pr := newProgress(&out, false)
			defer pr.close()
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			got := make(chan state.JobState, 1)
			go func() {
				s, err := followRollout(ctx, p, pr, nil, "default", tc.name, 1, false, func(context.Context) error { return nil })
				if err != nil {
					t.Error(err)
				}
				got <- s
			}()
			want := tc.want
			if want == "" {
				want = state.StateRunning // from the finished event
			}
			select {
			case s := <-got:
				if s != want {
					t.Fatalf("followRollout = %q, want %q", s, want)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("followRollout still follows after the stream resumed")
			}
		})
	}
}

// TestFollowRolloutEndsOnTheStatus: a follow whose event stream never
// brings the end of the rollout ends when the job's status has said so
// for a whole check, and goes on while the rollout goes on.
func TestFollowRolloutEndsOnTheStatus(t *testing.T) {
	defer func(d time.Duration) { statusCheck = d }(statusCheck)
	statusCheck = 50 * time.Millisecond
	ctx := context.Background()
	st, hash := storeWithSpec(t)
	for _, tc := range []struct {
		state state.JobState
		ends  bool
	}{
		{state.StateRunning, true},
		{state.StateFailed, true},
		{state.StateDeploying, false},
	} {
		t.Run(string(tc.state), func(t *testing.T) {
			name := "web-" + strings.ReplaceAll(string(tc.state), "_", "-")
			if _, err := st.CommitVersion(ctx, "default", name, hash, 0, tc.state); err != nil {
				t.Fatal(err)
			}
			p := &plane{Backend: st, ctl: eventsOnly{ch: make(chan api.Event)}} // silent
			pr := newProgress(io.Discard, false)
			defer pr.close()
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			s, err := followRollout(ctx, p, pr, nil, "default", name, 1, false, func(context.Context) error { return nil })
			switch {
			case tc.ends && (err != nil || s != tc.state):
				t.Errorf("followRollout = %q, %v; want %q", s, err, tc.state)
			case !tc.ends && err == nil:
				t.Errorf("followRollout of a rollout still deploying ended: %q", s)
			}
		})
	}
}

// TestAgentNATSConnectionRidesOutARestart connects as an agent does, has
// its NATS server replaced by another on the same port, and checks that
// the connection comes back, says so once, and logged the loss once.
func TestAgentNATSConnectionRidesOutARestart(t *testing.T) {
	first := startNATS(t)
	url := first.ClientURL()
	port := first.Addr().(*net.TCPAddr).Port
	var logBuf lockedBuffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	back := make(chan struct{}, 1)
	nc, err := nats.Connect(url, natsOptions(log, back)...)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if nc.Opts.MaxReconnect != -1 {
		t.Fatalf("MaxReconnect = %d, want -1 (for ever)", nc.Opts.MaxReconnect)
	}
	first.Shutdown()
	first.WaitForShutdown()
	wait.Until(t, 10*time.Second, "the connection to notice the loss", func() bool { return !nc.IsConnected() })

	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	select {
	case <-back:
	case <-time.After(20 * time.Second):
		t.Fatal("no reconnect signalled within 20s")
	}
	if !nc.IsConnected() {
		t.Fatal("signalled back, but not connected")
	}
	out := logBuf.String()
	if strings.Count(out, "lost the connection to NATS") != 1 || strings.Count(out, "reconnected to NATS") != 1 {
		t.Fatalf("want the loss and the return logged once each; log:\n%s", out)
	}
}

// TestAgentWaitsForNATSAtStart: an agent whose NATS server does not
// answer yet waits for it, says so once, and connects when it comes.
func TestAgentWaitsForNATSAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	url := fmt.Sprintf("nats://127.0.0.1:%d", port)
	var out lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type connected struct {
		st  *state.Store
		err error
	}
	done := make(chan connected, 1)
	go func() {
		st, err := connectNATS(ctx, &out, url, nil)
		done <- connected{st, err}
	}()
	wait.Until(t, 10*time.Second, "the agent to say it waits", func() bool { return strings.Contains(out.String(), "waiting") })
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	r := <-done
	if r.err != nil {
		t.Fatalf("connect once NATS answered: %v", r.err)
	}
	r.st.Close()
	if n := strings.Count(out.String(), "waiting"); n != 1 {
		t.Errorf("said it waits %d times, want once:\n%s", n, out.String())
	}
}

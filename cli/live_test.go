package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

// TestNewProgressChooses checks that newProgress prints plain lines to a
// buffer, JSON lines when asked, and never draws on what is not a terminal.
func TestNewProgressChooses(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false)
	if p.live != nil || p.json {
		t.Fatalf("a buffer got live=%v json=%v, want plain lines", p.live != nil, p.json)
	}
	if got := progressWriter(p, &buf); got != &buf {
		t.Errorf("progressWriter of a plain progress = %T, want the buffer", got)
	}
	p.event(apply.Event{Job: "default/web", Version: 1, Kind: apply.Completed, Message: "version 1 completed"})
	if got, want := buf.String(), "default/web: version 1 completed\n"; got != want {
		t.Errorf("plain line = %q, want %q", got, want)
	}
	p.close()
	p.close()

	buf.Reset()
	p = newProgress(&buf, true)
	if p.live != nil || !p.json {
		t.Fatalf("asJSON got live=%v json=%v, want JSON lines", p.live != nil, p.json)
	}
	p.event(apply.Event{Job: "default/web", Version: 1, Kind: apply.Completed})
	if !strings.HasPrefix(buf.String(), "{") || !strings.Contains(buf.String(), `"kind":"completed"`) {
		t.Errorf("JSON line = %q", buf.String())
	}
	p.close()

	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if canLive(f, func(string) string { return "" }) {
		t.Errorf("a regular file was taken for a terminal")
	}
}

// TestCanLiveEnvironment checks that NO_COLOR, TERM=dumb and CI turn the
// live view off, on what would otherwise qualify.
func TestCanLiveEnvironment(t *testing.T) {
	// A character device passes for a terminal (see isTerminal).
	tty, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no character device to test on: %v", err)
	}
	defer tty.Close()
	if !canLive(tty, func(string) string { return "" }) {
		t.Skipf("%s is not taken for a terminal here", os.DevNull)
	}
	for _, env := range []map[string]string{{"NO_COLOR": "1"}, {"TERM": "dumb"}, {"CI": "true"}} {
		if canLive(tty, func(k string) string { return env[k] }) {
			t.Errorf("live despite %v", env)
		}
	}
}

// scriptedRollout is a canary and one wave of two nodes, with a retry,
// then completion, as the engine sends them.
func scriptedRollout(job string) []apply.Event {
	ev := func(kind state.EventKind, wave int, node, exec, st, msg string) apply.Event {
		return apply.Event{Time: time.Now(), Job: job, Version: 2, Kind: kind, Wave: wave, Node: node, Execution: exec, State: st, Message: msg}
	}
	return []apply.Event{
		ev(apply.RolloutStarted, 0, "", "", "", "canary over 3 nodes"),
		ev(apply.ExecutionEvent, 0, "node-a", "x0", "lost", "re-attached? no: lost before the waves"),
		ev(apply.WaveStarted, 0, "", "", "", "node-a"),
		ev(apply.ExecutionEvent, 0, "node-a", "x1", "starting", ""),
		ev(apply.ExecutionEvent, 0, "node-a", "x1", "complete", ""),
		ev(apply.WaveStarted, 1, "", "", "", "node-b, node-c"),
		ev(apply.ExecutionEvent, 1, "node-b", "x2", "starting", ""),
		ev(apply.ExecutionEvent, 1, "node-c", "x3", "starting", ""),
		ev(apply.ExecutionEvent, 1, "node-b", "x2", "failed", "exit status 1"),
		ev(apply.ExecutionEvent, 1, "node-b", "x4", "starting", ""),
		ev(apply.ExecutionEvent, 1, "node-c", "x3", "complete", ""),
		ev(apply.ExecutionEvent, 1, "node-b", "x4", "complete", ""),
		ev("health", 0, "", "", "running", "a kind the view does not know"),
		ev(apply.Completed, 0, "", "", "completed", "version 2 completed"),
	}
}

// TestLiveRollout feeds a scripted rollout, with task output written
// between its events, to a live view drawing into a buffer, and checks
// that it ends without deadlock and keeps the messages.
func TestLiveRollout(t *testing.T) {
	var out lockedBuffer
	l := newLive(&out, mpb.WithWidth(100))
	p := &progress{w: &out, live: l}
	w := progressWriter(p, &out)
	if w != l {
		t.Fatalf("progressWriter of a live progress = %T, want its live view", w)
	}
	for i, ev := range scriptedRollout("default/web") {
		p.event(ev)
		fmt.Fprintf(w, "  x%d | task line %d\n", i, i)
		if i == 7 {
			wait.Until(t, 10*time.Second, "a frame of the wave in progress", func() bool {
				return strings.Contains(out.String(), "node-b: starting, node-c: starting")
			})
		}
		if i == 5 {
			fmt.Fprint(w, "  half a ")
			fmt.Fprint(w, "line\n")
		}
	}
	fmt.Fprint(w, "  no newline at the end")
	finished := make(chan struct{})
	go func() {
		p.close()
		p.close()
		close(finished)
	}()
	wait.Until(t, 10*time.Second, "close to return (else the live view deadlocked)", func() bool {
		select {
		case <-finished:
			return true
		default:
			return false
		}
	})
	got := out.String()
	if os.Getenv("MUSTER_SHOW_LIVE") != "" {
		t.Logf("%q", got)
	}
	for _, want := range []string{
		"default/web: rolling out version 2 (canary over 3 nodes)",
		"default/web: canary: node node-a: execution x0 lost",
		"default/web: wave 1: node node-b: execution x2 failed: exit status 1",
		"default/web: a kind the view does not know",
		"default/web: version 2 completed",
		"default/web v2 canary",
		"default/web v2 wave 1",
		"3/3",
		"node-b: starting, node-c: starting",
		"  x13 | task line 13",
		"  half a line\n",
		"  no newline at the end\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}

	// After close, events and writes still reach the output, as lines.
	p.event(apply.Event{Job: "default/web", Version: 2, Kind: apply.RolledBack, Message: "after close"})
	fmt.Fprint(w, "  late line\n")
	if got := out.String(); !strings.Contains(got, "default/web: after close\n") || !strings.Contains(got, "  late line\n") {
		t.Errorf("output after close lacks the late lines:\n%s", got)
	}
}

// TestLiveFailureAndPause checks a failed rollout, a paused canary and
// events from several goroutines, under the race detector when it is on.
func TestLiveFailureAndPause(t *testing.T) {
	var out lockedBuffer
	l := newLive(&out)
	var wg sync.WaitGroup
	for _, job := range []string{"default/a", "default/b"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.event(apply.Event{Job: job, Version: 1, Kind: apply.RolloutStarted, Message: "rolling over 2 nodes"})
			l.event(apply.Event{Job: job, Version: 1, Kind: apply.WaveStarted, Message: "node-a"})
			l.event(apply.Event{Job: job, Version: 1, Kind: apply.ExecutionEvent, Node: "node-a", Execution: "e1", State: "starting"})
			fmt.Fprintf(l, "  e1 | from %s\n", job)
			if job == "default/a" {
				l.event(apply.Event{Job: job, Version: 1, Kind: apply.ExecutionEvent, Node: "node-a", Execution: "e1", State: "complete"})
				l.event(apply.Event{Job: job, Version: 1, Kind: apply.CanaryPaused, Message: "canary succeeded on node-a; run 'muster promote default/a' to continue"})
				return
			}
			l.event(apply.Event{Job: job, Version: 1, Kind: apply.RolloutFailed, Message: "rollout failed: too many failed nodes"})
			l.event(apply.Event{Job: job, Version: 1, Kind: apply.RolledBack, Message: "rolled back to the spec of version 0 as version 2"})
		}()
	}
	wg.Wait()
	// The ticker's next frame prints the lines the last events left.
	wait.Until(t, 10*time.Second, "a frame after the last event", func() bool {
		return strings.Contains(out.String(), "default/b: rolled back to the spec of version 0 as version 2")
	})
	l.close()
	got := out.String()
	for _, want := range []string{
		"run 'muster promote default/a' to continue",
		"default/b: rollout failed: too many failed nodes",
		"default/b: rolled back to the spec of version 0 as version 2",
		"  e1 | from default/a",
		"  e1 | from default/b",
		"✓", "✗",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

// TestLiveCloseEmpty closes a live view that drew nothing, twice.
func TestLiveCloseEmpty(t *testing.T) {
	var out lockedBuffer
	p := &progress{w: &out, live: newLive(&out)}
	p.close()
	p.close()
	var none *progress
	none.close()
	if got := progressWriter(none, &out); got != &out {
		t.Errorf("progressWriter(nil) = %T, want w", got)
	}
}

// TestLiveShowsHealthAndFirstLine: beside each node of a wave in progress
// the view shows its execution's health progress (checks passed of
// success_threshold, time run of min_healthy_time) and the first line its
// task printed, without the task's escape sequences, instead of the bare
// state for the whole wait.
func TestLiveShowsHealthAndFirstLine(t *testing.T) {
	var out lockedBuffer
	l := newLive(&out, mpb.WithWidth(220))
	p := &progress{w: &out, live: l}
	w := progressWriter(p, &out)
	ev := func(node, exec, st string, h *state.HealthProgress) apply.Event {
		return apply.Event{Job: "default/web", Version: 1, Kind: apply.ExecutionEvent, Wave: 1, Node: node, Execution: exec, State: st, Health: h}
	}
	p.event(apply.Event{Job: "default/web", Version: 1, Kind: apply.WaveStarted, Wave: 1, Message: "node-a, node-b"})
	p.event(ev("node-a", "x1", "starting", nil))
	p.event(ev("node-b", "x2", "starting", nil))
	fmt.Fprint(w, "  x1 | \n  x1 | listening on :8080\n  x1 | second line\n")
	fmt.Fprint(w, "  x2 ! \x1b[31mboom\x1b[0m \x1b]0;owned\x07here\x07\n")
	fmt.Fprint(w, "  x9 | an execution of no wave\n")
	p.event(ev("node-a", "x1", "running", &state.HealthProgress{Passed: 1, SuccessThreshold: 3, RanSeconds: 1.5, MinHealthySeconds: 30}))

	v := l.waves[waveKey{"default/web", 1, 1}]
	v.mu.Lock()
	a, b := v.nodeDetail("node-a", v.states["node-a"], true), v.nodeDetail("node-b", v.states["node-b"], true)
	v.mu.Unlock()
	if want := `running (checks 1/3, 1.5s/30s) "listening on :8080"`; a != want {
		t.Errorf("node-a shows %q, want %q", a, want)
	}
	if want := `starting "boom here"`; b != want {
		t.Errorf("node-b shows %q, want %q", b, want)
	}
	wait.For(t, 10*time.Second, "a frame that shows node-a's progress", func() (string, bool) {
		got := out.String()
		return got, strings.Contains(got, `node-a: running (checks 1/3, 1.5s/30s) "listening on :8080"`)
	})

	// Checks passed beyond the threshold wait for min_healthy_time.
	p.event(ev("node-a", "x1", "running", &state.HealthProgress{Passed: 5, SuccessThreshold: 3, RanSeconds: 12, MinHealthySeconds: 30}))
	v.mu.Lock()
	a = v.nodeDetail("node-a", v.states["node-a"], true)
	v.mu.Unlock()
	if want := `running (checks 3/3, 12s/30s) "listening on :8080"`; a != want {
		t.Errorf("node-a shows %q, want %q", a, want)
	}

	// Healthy: the state says it all; the counts move.
	p.event(ev("node-a", "x1", "healthy", nil))
	v.mu.Lock()
	a = v.nodeDetail("node-a", v.states["node-a"], true)
	settled := v.settled
	v.mu.Unlock()
	if want := `healthy "listening on :8080"`; a != want || settled != 1 {
		t.Errorf("after healthy node-a shows %q with %d settled, want %q and 1", a, settled, want)
	}
	// A restart on the node shows the new execution's own first line.
	p.event(ev("node-b", "x3", "starting", nil))
	fmt.Fprint(w, "  x3 | retrying\n")
	v.mu.Lock()
	b = v.nodeDetail("node-b", v.states["node-b"], true)
	v.mu.Unlock()
	if want := `starting "retrying"`; b != want {
		t.Errorf("after a restart node-b shows %q, want %q", b, want)
	}
	// Progress of an execution outside any wave draws nothing and prints
	// no line.
	before := len(out.String())
	p.event(apply.Event{Job: "default/web", Version: 1, Kind: apply.ExecutionEvent, Wave: 7, Node: "node-z", Execution: "x7", State: "running", Health: &state.HealthProgress{}})
	p.close()
	if got := out.String()[before:]; strings.Contains(got, "x7") {
		t.Errorf("a progress event outside a wave printed a line: %q", got)
	}
	// Task lines are printed above the bars as written, every one.
	for _, want := range []string{"  x1 | listening on :8080\n", "  x1 | second line\n", "  x9 | an execution of no wave\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks the task line %q", want)
		}
	}
}

// TestPlainProgressSkipsHealth: plain lines leave out the health progress
// of each check (JSON keeps it), and a rollback says how to read what the
// failed version printed.
func TestPlainProgressSkipsHealth(t *testing.T) {
	h := apply.Event{Job: "default/web", Version: 2, Kind: apply.ExecutionEvent, Node: "n", Execution: "x1", State: "running",
		Health: &state.HealthProgress{Passed: 1, SuccessThreshold: 2, RanSeconds: 0.5, MinHealthySeconds: 30}}
	var plain, js bytes.Buffer
	(&progress{w: &plain}).event(h)
	(&progress{w: &js, json: true}).event(h)
	if plain.Len() != 0 {
		t.Errorf("plain progress printed a health check: %q", plain.String())
	}
	if !strings.Contains(js.String(), `"health":{"passed":1,"success_threshold":2,"ran_seconds":0.5,"min_healthy_seconds":30}`) {
		t.Errorf("JSON progress lacks the health progress: %s", js.String())
	}
	(&progress{w: &plain}).event(apply.Event{Job: "pay/web", Version: 4, Kind: apply.RolledBack, Message: "rolled back to the spec of version 3 as version 5"})
	if want := "pay/web: rolled back to the spec of version 3 as version 5\n  what version 4 printed: muster logs pay/web --version 4 --stderr\n"; plain.String() != want {
		t.Errorf("rollback line = %q, want %q", plain.String(), want)
	}
}

func TestOutputLine(t *testing.T) {
	for _, tc := range []struct {
		line, id, text string
		ok             bool
	}{
		{"  x1 | hello", "x1", "hello", true},
		{"  x1 ! oops | x", "x1", "oops | x", true},
		{"  x1 | ", "x1", "", true},
		{"  x1 |", "", "", false},
		{"default/web: wave 1: node a: execution x1 starting", "", "", false},
		{"   | no id", "", "", false},
		{"  x1 : text", "", "", false},
	} {
		id, text, ok := outputLine(tc.line)
		if id != tc.id || text != tc.text || ok != tc.ok {
			t.Errorf("outputLine(%q) = %q, %q, %v; want %q, %q, %v", tc.line, id, text, ok, tc.id, tc.text, tc.ok)
		}
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/sensitive"
)

// progress prints rollout events as plain lines, as JSON lines, or, when
// made by newProgress for a terminal, as a live view of bars. A progress
// built as &progress{w: w, json: asJSON} prints lines, never a live view;
// close is then a no-op. Its methods are safe for concurrent use.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
	// live, when not nil, draws the events instead of printing them.
	// Set only by newProgress.
	live *live
	// hide holds the texts of sensitive values (sensitive.Values), which
	// event messages show as (sensitive). Set before the first event.
	hide []string
}

// newProgress returns the progress printer for w: JSON lines when asJSON,
// a live view when w is a terminal and the environment does not ask for
// plain output (NO_COLOR, TERM=dumb, CI), plain lines otherwise. Callers
// must call close when the rollouts are over, before printing more to w.
func newProgress(w io.Writer, asJSON bool) *progress {
	p := &progress{w: w, json: asJSON}
	if !asJSON && canLive(w, os.Getenv) {
		p.live = newLive(w)
	}
	return p
}

// event prints or draws one rollout event. The health progress of an
// execution (an event with Health) is drawn by a live view and printed as
// JSON, but is no line of plain text: it comes once per health check.
func (p *progress) event(ev apply.Event) {
	ev.Message = sensitive.Redact(ev.Message, p.hide)
	if p.live != nil {
		p.live.event(ev)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	if ev.Health != nil {
		return
	}
	fmt.Fprint(p.w, plainLine(ev))
}

// close stops the live view, if any, leaving its final state on screen.
// It is safe to call on a progress without one, and more than once.
func (p *progress) close() {
	if p != nil && p.live != nil {
		p.live.close()
	}
}

// progressWriter returns where lines that are not events (task output)
// should be written while p shows progress on w: p's live view, which
// prints them above its bars, when it has one; w otherwise.
func progressWriter(p *progress, w io.Writer) io.Writer {
	if p != nil && p.live != nil {
		return p.live
	}
	return w
}

// plainLine is the plain-text line (with its newline) of ev.
func plainLine(ev apply.Event) string {
	where := waveName(ev.Wave)
	switch ev.Kind {
	case apply.RolloutStarted:
		return fmt.Sprintf("%s: rolling out version %d (%s)\n", ev.Job, ev.Version, ev.Message)
	case apply.WaveStarted:
		return fmt.Sprintf("%s: %s: %s\n", ev.Job, where, ev.Message)
	case apply.ExecutionEvent:
		msg := ""
		if ev.Message != "" {
			msg = ": " + ev.Message
		}
		st := ev.State
		if ev.Phase != "" && ev.Phase != ev.State {
			st += ", " + ev.Phase
		}
		return fmt.Sprintf("%s: %s: node %s: execution %s %s%s\n", ev.Job, where, ev.Node, ev.Execution, st, msg)
	case apply.ProbeEvent:
		outcome := "failed"
		if ev.Probe != nil && ev.Probe.OK {
			outcome = "ok"
		}
		kind := "probe"
		if ev.Probe != nil {
			kind = ev.Probe.Kind + " probe"
		}
		return fmt.Sprintf("%s: node %s: execution %s: %s %s: %s\n", ev.Job, ev.Node, ev.Execution, kind, outcome, ev.Message)
	case apply.RolledBack:
		// The failed version's output is one command away.
		return fmt.Sprintf("%s: %s\n  what version %d printed: muster logs %s --version %d --stderr\n", ev.Job, ev.Message, ev.Version, ev.Job, ev.Version)
	default:
		return fmt.Sprintf("%s: %s\n", ev.Job, ev.Message)
	}
}

// waveName names wave n of a rollout: "canary" for 0, "wave n" after.
func waveName(n int) string {
	if n > 0 {
		return fmt.Sprintf("wave %d", n)
	}
	return "canary"
}

package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/muster-dev/muster/apply"
)

// progress prints rollout events as plain lines, or as JSON lines. Its
// methods are safe for concurrent use.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

// event prints one rollout event.
func (p *progress) event(ev apply.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprint(p.w, plainLine(ev))
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
		return fmt.Sprintf("%s: %s: node %s: execution %s %s%s\n", ev.Job, where, ev.Node, ev.Execution, ev.State, msg)
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

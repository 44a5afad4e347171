package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/muster-dev/muster/apply"
)

// progress prints rollout events as plain lines, or as JSON lines.
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (p *progress) event(ev apply.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(ev)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	where := "canary"
	if ev.Wave > 0 {
		where = fmt.Sprintf("wave %d", ev.Wave)
	}
	switch ev.Kind {
	case apply.RolloutStarted:
		fmt.Fprintf(p.w, "%s: rolling out version %d (%s)\n", ev.Job, ev.Version, ev.Message)
	case apply.WaveStarted:
		fmt.Fprintf(p.w, "%s: %s: %s\n", ev.Job, where, ev.Message)
	case apply.ExecutionEvent:
		msg := ""
		if ev.Message != "" {
			msg = ": " + ev.Message
		}
		fmt.Fprintf(p.w, "%s: %s: node %s: execution %s %s%s\n", ev.Job, where, ev.Node, ev.Execution, ev.State, msg)
	default:
		fmt.Fprintf(p.w, "%s: %s\n", ev.Job, ev.Message)
	}
}

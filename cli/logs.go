package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// logReader reads an execution's log stream from byte offset on.
type logReader func(ctx context.Context, x state.Execution, stream string, offset int64) ([]byte, error)

// logPrinter prints the logs of a job version's executions, and with
// follow keeps printing them as they grow.
type logPrinter struct {
	w       io.Writer
	read    logReader
	stream  string
	offsets map[string]int64 // bytes read, by execution id
	last    string           // the execution whose lines were printed last
	// hide returns the texts of the sensitive values of a job version,
	// which a task may print: they show as (sensitive). Nil hides nothing.
	hide func(ctx context.Context, version int) ([]string, error)
	// partial holds, by execution id, the end of its output after the last
	// newline, printed once the line is whole (or the execution ended), so
	// that a value split across two reads is still hidden.
	partial map[string][]byte
	// follow is set while logs are followed.
	follow bool
}

// followPoll is how often --follow looks for new output and executions.
const followPoll = 250 * time.Millisecond

func (l *logPrinter) run(ctx context.Context, st *plane, ns, name string, version int, all, follow bool) error {
	l.follow = follow
	for {
		js, err := st.Job(ctx, ns, name)
		if err != nil {
			return err
		}
		if follow && js.Version != version {
			fmt.Fprintf(l.w, "==> %s/%s moved to version %d <==\n", ns, name, js.Version)
			version = js.Version
		}
		execs, err := st.Executions(ctx, ns, name)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		var mine []state.Execution
		for _, x := range execs {
			if x.JobVersion == version && (all || follow || x.NextExecutionID == "") {
				mine = append(mine, x)
			}
		}
		if len(mine) == 0 && !follow {
			return fmt.Errorf("%s/%s version %d has no executions", ns, name, version)
		}
		active := false
		for _, x := range mine {
			if err := l.drain(ctx, x, len(mine) > 1); err != nil {
				if !follow {
					return err
				}
				fmt.Fprintf(l.w, "==> %s: %v <==\n", x.ID, err)
			}
			if !state.Ended(x.Status.ComputeState) {
				active = true
			}
		}
		if !follow || !active && len(mine) > 0 && !longRunningActive(js.State) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(followPoll):
		}
	}
}

// drain prints what x wrote since the last call. While x may still write
// and logs are followed, a line is printed once it is whole.
func (l *logPrinter) drain(ctx context.Context, x state.Execution, header bool) error {
	var hidden []string
	if l.hide != nil {
		var err error
		if hidden, err = l.hide(ctx, x.JobVersion); err != nil {
			return err
		}
	}
	if l.partial == nil {
		l.partial = map[string][]byte{}
	}
	for {
		chunk, err := l.read(ctx, x, l.stream, l.offsets[x.ID])
		if err != nil {
			return err
		}
		l.offsets[x.ID] += int64(len(chunk))
		buf := append(l.partial[x.ID], chunk...)
		end := bytes.LastIndexByte(buf, '\n') + 1
		if len(chunk) == 0 && (!l.follow || state.Ended(x.Status.ComputeState)) {
			end = len(buf) // no more is coming now: the rest goes out as it is
		}
		l.partial[x.ID] = append([]byte(nil), buf[end:]...)
		if end > 0 {
			if header && l.last != x.ID {
				fmt.Fprintf(l.w, "==> %s on %s (%s) <==\n", x.ID, x.NodeID, x.Status.ComputeState)
			}
			l.last = x.ID
			if _, err := io.WriteString(l.w, sensitive.Redact(string(buf[:end]), hidden)); err != nil {
				return err
			}
		}
		if len(chunk) == 0 {
			return nil
		}
	}
}

// longRunningActive reports whether a job state means executions may
// still start (a rollout, or a running service restarting them).
func longRunningActive(s string) bool {
	switch s {
	case state.StatePending, state.StateQueued, state.StateDeploying, state.StateRunning, state.StateDegraded, state.StateRolloutPaused:
		return true
	}
	return false
}

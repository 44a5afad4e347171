package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

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
	offsets map[string]int64 // bytes printed, by execution id
	last    string           // the execution whose lines were printed last
}

// followPoll is how often --follow looks for new output and executions.
const followPoll = 250 * time.Millisecond

func (l *logPrinter) run(ctx context.Context, st *plane, ns, name string, version int, all, follow bool) error {
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

// drain prints what x wrote since the last call.
func (l *logPrinter) drain(ctx context.Context, x state.Execution, header bool) error {
	for {
		b, err := l.read(ctx, x, l.stream, l.offsets[x.ID])
		if err != nil {
			return err
		}
		if len(b) == 0 {
			return nil
		}
		if header && l.last != x.ID {
			fmt.Fprintf(l.w, "==> %s on %s (%s) <==\n", x.ID, x.NodeID, x.Status.ComputeState)
		}
		l.last = x.ID
		if _, err := l.w.Write(b); err != nil {
			return err
		}
		l.offsets[x.ID] += int64(len(b))
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

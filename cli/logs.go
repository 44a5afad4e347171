package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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

// logSelect says which executions of a job logs prints.
type logSelect struct {
	// version is the job version whose executions are printed; 0 means
	// the current one, followed to the next with --follow.
	version int
	// execution, when set, is the id (or a unique prefix of it) of the
	// one execution to print, of any version.
	execution string
	// previous prints, instead of each chosen execution, the one it
	// replaced when it was restarted (previous_execution_id).
	previous bool
	// all includes the executions that were replaced, not only the latest
	// of each restart chain.
	all bool
}

// check refuses the combinations that mean nothing.
func (s logSelect) check(follow bool) error {
	switch {
	case s.execution != "" && s.version != 0:
		return errors.New("--execution names one execution, of whatever version: drop --version")
	case s.execution != "" && s.all:
		return errors.New("--execution names one execution: drop --all")
	case s.previous && s.all:
		return errors.New("--all already prints the executions that were replaced: drop --previous")
	case s.previous && follow:
		return errors.New("--previous prints executions that were replaced, which ended: drop --follow")
	case s.version < 0:
		return fmt.Errorf("--version %d: versions count from 1", s.version)
	}
	return nil
}

// pick chooses among execs, the executions of a job, those of version to
// print. Following, it keeps every execution of the version (so that
// restarts are followed too) and finds nothing yet without failing.
func (s logSelect) pick(execs []state.Execution, ref string, version int, follow bool) ([]state.Execution, error) {
	if s.execution != "" {
		x, err := findExecution(execs, ref, s.execution)
		if err != nil || !s.previous {
			return []state.Execution{x}, err
		}
		prev, ok := previousOf(execs, x)
		if !ok {
			return nil, fmt.Errorf("execution %s of %s was not restarted: it replaced no execution (--previous)", x.ID, ref)
		}
		return []state.Execution{prev}, nil
	}
	var mine []state.Execution
	for _, x := range execs {
		if x.JobVersion == version && (s.all || follow || x.NextExecutionID == "") {
			mine = append(mine, x)
		}
	}
	if len(mine) == 0 {
		if follow {
			return nil, nil
		}
		return nil, fmt.Errorf("%s version %d has no executions", ref, version)
	}
	if !s.previous {
		return mine, nil
	}
	var prevs []state.Execution
	for _, x := range mine {
		if prev, ok := previousOf(execs, x); ok {
			prevs = append(prevs, prev)
		}
	}
	if len(prevs) == 0 {
		return nil, fmt.Errorf("no execution of %s version %d was restarted: none replaced another (--previous)", ref, version)
	}
	return prevs, nil
}

// findExecution finds the execution whose id is id, or the only one whose
// id starts with it.
func findExecution(execs []state.Execution, ref, id string) (state.Execution, error) {
	var found []state.Execution
	for _, x := range execs {
		if x.ID == id {
			return x, nil
		}
		if strings.HasPrefix(x.ID, id) {
			found = append(found, x)
		}
	}
	switch len(found) {
	case 0:
		return state.Execution{}, fmt.Errorf("%s has no execution %s (see 'muster executions --all %s')", ref, id, ref)
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, x := range found {
		ids[i] = x.ID
	}
	return state.Execution{}, fmt.Errorf("%q starts %d executions of %s: %s", id, len(found), ref, strings.Join(ids, ", "))
}

// previousOf finds the execution x replaced, when it was a restart.
func previousOf(execs []state.Execution, x state.Execution) (state.Execution, bool) {
	if x.PreviousExecutionID == "" {
		return state.Execution{}, false
	}
	for _, p := range execs {
		if p.ID == x.PreviousExecutionID {
			return p, true
		}
	}
	return state.Execution{}, false
}

// run prints the logs of the executions sel picks; following, it goes on
// until they ended (and, for the current version, moves to a newer one).
func (l *logPrinter) run(ctx context.Context, st *plane, ns, name string, sel logSelect, follow bool) error {
	l.follow = follow
	ref := ns + "/" + name
	version := sel.version
	for {
		js, err := st.Job(ctx, ns, name)
		if err != nil {
			return err
		}
		if sel.version == 0 {
			if follow && version != 0 && js.Version != version {
				fmt.Fprintf(l.w, "==> %s moved to version %d <==\n", ref, js.Version)
			}
			version = js.Version
		}
		execs, err := st.Executions(ctx, ns, name)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return err
		}
		mine, err := sel.pick(execs, ref, version, follow)
		if err != nil && (!follow || sel.execution != "") {
			return err
		}
		active := false
		for _, x := range mine {
			if err := l.drain(ctx, x, len(mine) > 1); err != nil {
				if !follow {
					return err
				}
				fmt.Fprintf(l.w, "==> %s: %v <==\n", x.ID, err)
			}
			if x.Status.ComputeState.Active() {
				active = true
			}
		}
		// One execution, or a version other than the current one, is
		// done once what was picked ended; the current version may still
		// start executions while the job is active.
		more := sel.execution == "" && sel.version == 0 && longRunningActive(js.State)
		if !follow || !active && len(mine) > 0 && !more {
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
		if len(chunk) == 0 && (!l.follow || x.Status.ComputeState.Ended()) {
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
func longRunningActive(s state.JobState) bool { return s.Active() }

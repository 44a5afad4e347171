package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/state"
)

// remoteRollouts asks a running control plane to roll out each recorded
// version and follows its events until that rollout finished. With promote
// it continues paused canary rollouts instead. It fails when any rollout
// failed.
func remoteRollouts(ctx context.Context, w io.Writer, p *plane, jobs []rolloutJob, asJSON, promote bool) error {
	pr := newProgress(w, asJSON)
	defer pr.close()
	w = progressWriter(pr, w)
	failed := 0
	for _, rj := range jobs {
		ns, name := rj.spec.Namespace, rj.spec.Name
		st, err := followRollout(ctx, p, pr, ns, name, rj.version, func(ctx context.Context) error {
			if promote {
				return p.ctl.Promote(ctx, ns, name)
			}
			return p.ctl.Rollout(ctx, ns, name, rj.version, false)
		})
		if err != nil {
			return fmt.Errorf("%s/%s: %w", ns, name, err)
		}
		switch st {
		case state.StateFailed, state.StateRolloutFailed:
			failed++
		}
		if !asJSON {
			printRemoteOutputs(ctx, w, p, rj)
		}
	}
	if failed > 0 {
		return exitCode(exitError)
	}
	return nil
}

// followRollout subscribes to a job's events, calls start, and prints the
// events until the rollout of version finished; it returns the state the
// rollout left the job in.
func followRollout(ctx context.Context, p *plane, pr *progress, ns, name string, version int, start func(context.Context) error) (string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	events, err := p.ctl.Events(ctx, ns, name)
	if err != nil {
		return "", err
	}
	if err := start(ctx); err != nil {
		return "", err
	}
	for ev := range events {
		if ev.Kind == apply.Finished {
			if ev.Version != version && ev.Version != 0 {
				continue
			}
			if pr.json {
				pr.event(ev) // machines get the final state too
			}
			if ev.State == state.StateFailed && ev.Message != "" {
				pr.event(apply.Event{Job: ev.Job, Kind: apply.RolloutFailed, Message: ev.Message})
			}
			return ev.State, nil
		}
		pr.event(ev)
	}
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	return "", errors.New("the control plane closed the event stream before the rollout finished (see 'muster status')")
}

// printRemoteOutputs lists the executions of a version with their output
// documents, and how to read their logs.
func printRemoteOutputs(ctx context.Context, w io.Writer, p *plane, rj rolloutJob) {
	execs, err := p.Executions(ctx, rj.spec.Namespace, rj.spec.Name)
	if err != nil {
		return
	}
	any := false
	for _, x := range execs {
		if x.JobVersion != rj.version || x.NextExecutionID != "" {
			continue
		}
		any = true
		if !rj.spec.Type.LongRunning() {
			// What a run-to-completion task printed, as apply shows it
			// without a control plane (the first MiB).
			if b, err := p.ctl.ReadLog(ctx, rj.spec.Namespace, rj.spec.Name, x.ID, "stdout", 0); err == nil && len(b) > 0 {
				lp := &linePrefixer{w: w, mu: &sync.Mutex{}, prefix: "  " + x.ID + " | "}
				lp.Write(b)
				if !bytes.HasSuffix(b, []byte("\n")) {
					lp.Write([]byte("\n"))
				}
			}
		}
		fmt.Fprintf(w, "  %s on %s: %s\n", x.ID, x.NodeID, x.Status.ComputeState)
		for _, d := range x.Outputs {
			fmt.Fprintf(w, "    output %s: %s (%d bytes; muster doc get %s)\n", d.Path, d.Hash, d.Size, d.Hash)
		}
	}
	if any {
		fmt.Fprintf(w, "  logs: muster logs %s/%s\n", rj.spec.Namespace, rj.spec.Name)
	}
}

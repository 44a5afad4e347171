package apply

import (
	"context"
	"errors"
	"time"

	"github.com/muster-dev/muster/state"
)

// stoppedMessage is the message of what 'muster stop' stopped.
const stoppedMessage = "stopped by 'muster stop'"

// StopRecorded records every execution of a job that has not ended as
// stopped (desired and compute state), a rollout of it that had not ended
// as stopped, and the job as stopped. It is the
// whole of a stop where no process runs the executions, and the end of one
// where a controller stopped those it ran. It returns how many executions
// it recorded stopped.
func StopRecorded(ctx context.Context, st Store, ns, name string) (int, error) {
	execs, err := unended(ctx, st, ns, name)
	if err != nil {
		return 0, err
	}
	for _, x := range execs {
		x.Status.DesiredState, x.Status.ComputeState, x.Status.Message = state.DesiredStopped, state.ComputeStopped, stoppedMessage
		if _, err := st.UpdateExecution(ctx, x); err != nil && !errors.Is(err, state.ErrConflict) {
			return 0, err
		}
	}
	if err := stopRollouts(ctx, st, ns, name); err != nil {
		return 0, err
	}
	_, err = st.UpdateStatus(ctx, ns, name, func(js *state.JobStatus) error {
		js.State, js.Message = state.StateStopped, stoppedMessage
		return nil
	})
	return len(execs), err
}

// unended returns the executions of a job that have not ended.
func unended(ctx context.Context, st Store, ns, name string) ([]state.Execution, error) {
	execs, err := st.Executions(ctx, ns, name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	var out []state.Execution
	for _, x := range execs {
		if x.Status.ComputeState.Active() {
			out = append(out, x)
		}
	}
	return out, nil
}

// stopRollouts records the rollouts of a job that had not ended as
// stopped.
func stopRollouts(ctx context.Context, st Store, ns, name string) error {
	recs, err := st.Rollouts(ctx, ns, name)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.Ended() {
			continue
		}
		r.Outcome, r.State, r.Message, r.EndedAt = state.OutcomeStopped, state.StateStopped, stoppedMessage, time.Now().UTC()
		countEnd(r)
		if err := st.PutRollout(ctx, r); err != nil {
			return err
		}
	}
	return nil
}

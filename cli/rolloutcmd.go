package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

func newRollout() *cobra.Command {
	c := &cobra.Command{
		Use:   "rollout",
		Short: "Follow the rollouts of jobs",
	}
	c.AddCommand(newRolloutStatus())
	return c
}

func newRolloutStatus() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "status JOB",
		Short: "Follow a job's current rollout until it ends; the exit status says how it ended",
		Long: `Rollout status follows the rollout of a job's current version, printing a line
each time it moves (the set it rolls out, healthy and unhealthy executions),
until it ends or pauses for 'muster promote'. A rollout that a newer version
superseded is followed into that version's.

Exit status: 0 when the rollout completed (batch and ops executions
completed, service and daemon executions running, or degraded), or paused
after its canary for 'muster promote'; 1 when it failed, was rolled back,
was stopped, or --timeout passed first, or when no control plane runs to
drive a rollout that has not ended. With -o json it prints how it ended
as one object: job, version, state, outcome, message, exit_code and the
rollout record.`,
		Example: `  muster rollout status web
  muster rollout status --timeout 10m payments/web`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx, st, ns, name, err := sf.openJob(c, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			return followToEnd(ctx, c.OutOrStdout(), st, ns, name, out.value == "json")
		},
	}
	sf.register(c)
	out.register(c, "text", "json")
	c.Flags().DurationVar(&timeout, "timeout", 0, "give up (exit status 1) after this long; 0 waits for the end")
	return c
}

// rolloutEnd is how a followed rollout ended, as -o json prints it.
type rolloutEnd struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Version   int    `json:"version"`
	// State is the job's state; Outcome the rollout's (see
	// state.Rollout.Outcome), or "" when it paused for promote.
	State    string         `json:"state"`
	Outcome  string         `json:"outcome,omitempty"`
	Message  string         `json:"message,omitempty"`
	ExitCode int            `json:"exit_code"`
	Rollout  *state.Rollout `json:"rollout,omitempty"`
}

// recordLag bounds, in polls, the wait for a rollout record to say how a
// rollout ended once the job's state says it did.
const recordLag = 20

// followToEnd follows the current rollout of job ns/name (see
// rolloutVerdict) until it ends, printing its moves (text) or its end
// (JSON), and returns the exit status of its end: nil or exitCode(1).
// Without a running control plane nothing moves a rollout on: one that
// has not ended was interrupted, and ends the following at once.
func followToEnd(ctx context.Context, w io.Writer, st *plane, ns, name string, asJSON bool) error {
	js, err := jobStatus(ctx, st, ns, name)
	if err != nil {
		return err
	}
	version, last := js.Version, ""
	unended := 0
	for {
		rec, err := rolloutOf(ctx, st, ns, name, version)
		if err != nil {
			return err
		}
		done, code, next := rolloutVerdict(js, version, rec)
		if done && rec != nil && !rec.Ended() && rec.State != state.StateRolloutPaused && st.ctl != nil && unended < recordLag {
			// The job's state is written before the rollout's record
			// says how it ended (a rollback is committed in between):
			// give the record a moment to catch up.
			done = false
			unended++
		}
		if line := progressText(ns, name, version, js, rec); !asJSON && line != last {
			fmt.Fprintln(w, line)
			last = line
		}
		if !done && next == 0 && st.ctl == nil {
			fmt.Fprintf(w, "%s/%s version %d: %s, and no control plane drives it (its rollout was interrupted): 'muster apply' resumes it here, or start 'muster dev'\n", ns, name, version, js.State)
			return exitCode(exitError)
		}
		switch {
		case next > 0:
			version = next
			continue
		case done:
			end := rolloutEnd{Namespace: ns, Name: name, Version: version, State: string(js.State), Message: js.Message, ExitCode: code, Rollout: rec}
			if rec != nil {
				end.Outcome, end.Message = rec.Outcome, rec.Message
			}
			if asJSON {
				if err := writeJSON(w, end); err != nil {
					return err
				}
			}
			if code != 0 {
				return exitCode(code)
			}
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				fmt.Fprintf(w, "%s/%s version %d: still %s when --timeout passed\n", ns, name, version, js.State)
				return exitCode(exitError)
			}
			return ctx.Err()
		case <-time.After(followPoll):
		}
		if js, err = jobStatus(ctx, st, ns, name); err != nil {
			return err
		}
	}
}

// rolloutOf returns the record of the rollout of version, nil if none.
func rolloutOf(ctx context.Context, st api.Backend, ns, name string, version int) (*state.Rollout, error) {
	recs, err := st.Rollouts(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		if recs[i].Version == version {
			return &recs[i], nil
		}
	}
	return nil, nil
}

// rolloutVerdict says whether the rollout of version (its record rec, nil
// if none; js the job's status now) ended, with which exit status, or that
// a newer version superseded it (next: follow that one instead).
//
//	completed, running, degraded, paused for promote   0
//	failed, rolled back, stopped                        1
//	superseded                                          follow the newer version
//	pending, queued, deploying                          not ended
func rolloutVerdict(js state.JobStatus, version int, rec *state.Rollout) (done bool, code, next int) {
	if rec != nil && rec.Outcome != "" {
		switch rec.Outcome {
		case state.OutcomeCompleted:
			return true, 0, 0
		case state.OutcomeSuperseded:
			if rec.SupersededBy > version {
				return false, 0, rec.SupersededBy
			}
		}
		return true, exitError, 0
	}
	st := js.State
	if js.Version != version {
		// The version moved on without a record saying how (a record
		// written before outcomes were kept, or none): follow the new one.
		if js.Version > version {
			return false, 0, js.Version
		}
		return true, exitError, 0
	}
	if rec != nil && !rec.EndedAt.IsZero() {
		st = rec.State // a record written before outcomes were kept
	}
	switch st {
	case state.StateCompleted, state.StateRunning, state.StateDegraded, state.StateRolloutPaused:
		return true, 0, 0
	case state.StateFailed, state.StateRolloutFailed, state.StateStopped, state.StateDeleted:
		return true, exitError, 0
	}
	return false, 0, 0
}

// progressText is the line that says where the rollout of version is.
func progressText(ns, name string, version int, js state.JobStatus, rec *state.Rollout) string {
	head := fmt.Sprintf("%s/%s version %d: ", ns, name, version)
	if rec == nil {
		return head + withMessage(string(js.State), js.Message)
	}
	if rec.Ended() || rec.State == state.StateRolloutPaused || rec.State == state.StateQueued {
		return head + withMessage(outcomeText(rec), rec.Message)
	}
	return head + fmt.Sprintf("deploying %s, %d of %d sets done, %d healthy, %d unhealthy",
		setText(rec.Wave), rec.WavesDone, rec.Sets(), rec.Healthy, rec.Unhealthy)
}

// setText names set i of a rollout.
func setText(i int) string {
	if i == 0 {
		return "the canary"
	}
	return fmt.Sprintf("wave %d", i)
}

// versionRollout is how a version's rollout went, as history and status
// show it.
type versionRollout struct {
	// State is the job state the rollout is in or left; Outcome how it
	// ended, "" while it goes on (see state.Rollout).
	State          string `json:"state"`
	Outcome        string `json:"outcome,omitempty"`
	RolledBackTo   int    `json:"rolled_back_to,omitempty"`
	RolledBackFrom int    `json:"rolled_back_from,omitempty"`
	SupersededBy   int    `json:"superseded_by,omitempty"`
	Message        string `json:"message,omitempty"`
	// Text says it in words: "completed", "failed, rolled back to v3",
	// "superseded by v5", "paused for promote", ...
	Text string `json:"text"`
}

// versionRollouts returns how the rollout of each version of job ns/name
// went, by version; versions without a record have none.
func versionRollouts(ctx context.Context, st api.Backend, ns, name string) (map[int]*versionRollout, error) {
	recs, err := st.Rollouts(ctx, ns, name)
	if err != nil {
		return nil, err
	}
	out := make(map[int]*versionRollout, len(recs))
	for i := range recs {
		r := &recs[i]
		out[r.Version] = &versionRollout{State: string(r.State), Outcome: r.Outcome, RolledBackTo: r.RolledBackTo,
			RolledBackFrom: r.RolledBackFrom, SupersededBy: r.SupersededBy, Message: r.Message, Text: outcomeText(r)}
	}
	return out, nil
}

// rolloutText is v's Text, "-" when v is nil.
func rolloutText(v *versionRollout) string {
	if v == nil {
		return "-"
	}
	return v.Text
}

// outcomeText says how a rollout went: its outcome, or where it is while
// it goes on.
func outcomeText(r *state.Rollout) string {
	if r == nil {
		return "-"
	}
	var s string
	switch r.Outcome {
	case state.OutcomeCompleted, state.OutcomeFailed, state.OutcomeStopped:
		s = r.Outcome
	case state.OutcomeRolledBack:
		s = fmt.Sprintf("rolled back to v%d", r.RolledBackTo)
		if r.State == state.StateRolloutFailed || r.State == state.StateFailed {
			s = "failed, " + s
		}
	case state.OutcomeSuperseded:
		s = fmt.Sprintf("superseded by v%d", r.SupersededBy)
	default:
		switch {
		case !r.EndedAt.IsZero():
			s = string(r.State) // a record written before outcomes were kept
		case r.State == state.StateRolloutPaused:
			s = "paused for promote"
		case r.State == state.StateQueued:
			s = "queued"
		default:
			s = fmt.Sprintf("deploying (%d of %d sets done)", r.WavesDone, r.Sets())
		}
	}
	if r.RolledBackFrom > 0 {
		s += fmt.Sprintf(" (rolled back from v%d)", r.RolledBackFrom)
	}
	return s
}

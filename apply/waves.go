package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/muster-dev/muster/schema"
)

// sets is how one kind of rollout runs its sets of nodes (the canary, then
// the waves): run-to-completion executions for batch and ops jobs (Rollout),
// long-running ones judged by their health for service and daemon jobs
// (Deploy). The wave loop (runSets) is the same for both.
type sets interface {
	// pause is the canary pause, before set 1 of a rollout that pauses:
	// done ends the rollout there with out (a batch rollout returns, and
	// 'muster promote' starts it again); otherwise it waited for promote
	// and the rollout goes on.
	pause(ctx context.Context) (out Outcome, done bool, err error)
	// run rolls set i out on nodes and says how it went; an error is
	// muster's own (the store), not a failed execution.
	run(ctx context.Context, i int, nodes []string) (setResult, error)
}

// setResult is how one set of a rollout went.
type setResult struct {
	// failed holds the nodes where an execution failed (batch, ops) or
	// was not healthy (service, daemon).
	failed map[string]bool
	// good and bad count the executions completed or healthy, and failed
	// or unhealthy.
	good, bad int
	// first says why the first execution that failed or was unhealthy
	// did, with its node; empty when none did or nothing was said.
	first string
}

// setsEnd is how the wave loop ended when it returned no error.
type setsEnd struct {
	// paused is set when the rollout stopped at its canary pause.
	paused *Outcome
	// failed says why the rollout failed (its failure limits, or
	// timeouts.total), "" when it did not.
	failed string
	// failedNodes counts the nodes where an execution failed, over every
	// set run.
	failedNodes int
	// expired says why executions that waited for room gave up
	// (timeouts.queue), "" when none did.
	expired string
}

// runSets is the wave loop of every rollout: from the set it starts at
// (see startFrom), it skips empty sets, pauses before set 1 when pause is
// set, records each set started and done in the rollout record, counts
// the failed nodes against the rollout's limits and ends the rollout when
// they break them or timeouts.total passes. When ctx is cancelled (a stop,
// a newer version, a shutdown) it returns ctx's error as soon as the set
// under way returned: the set did not finish and is run again by a
// rollout that resumes.
func (r *rollout) runSets(ctx context.Context, pause bool, s sets) (setsEnd, error) {
	var end setsEnd
	firstWhy := ""
	all := append([][]string{r.pl.Canary}, r.pl.Waves...)
	for i := r.start.set; i < len(all); i++ {
		nodes := all[i]
		if len(nodes) == 0 {
			continue
		}
		if i == 1 && pause && len(r.pl.Canary) > 0 {
			out, done, err := s.pause(ctx)
			if err != nil {
				return end, err
			}
			if done {
				end.paused = &out
				return end, nil
			}
		}
		if err := r.setStarted(ctx, i); err != nil {
			return end, err
		}
		r.emit(Event{Kind: WaveStarted, Wave: i, Message: join(nodes)})
		res, err := s.run(ctx, i, nodes)
		if errors.Is(ctx.Err(), context.Canceled) {
			return end, ctx.Err()
		}
		if err != nil {
			return end, err
		}
		if err := r.setDone(ctx, i, res.good, res.bad); err != nil {
			return end, err
		}
		end.failedNodes += len(res.failed)
		if firstWhy == "" {
			firstWhy = res.first
		}
		end.failed = failureLimit(r.job.Rollout, end.failedNodes, len(targets(r.pl)))
		if end.failed != "" && firstWhy != "" {
			end.failed += " (" + firstWhy + ")"
		}
		if end.failed == "" && ctx.Err() != nil {
			end.failed = "timed out (timeouts.total " + r.job.Timeouts.Total.String() + ")"
		}
		if end.failed != "" {
			return end, nil
		}
	}
	return end, nil
}

// failureLimit says why failedNodes of total target nodes break the
// rollout's limits (max_failed_nodes, max_failed_nodes_percent), or "".
func failureLimit(ro schema.Rollout, failedNodes, total int) string {
	if failedNodes == 0 {
		return ""
	}
	if failedNodes > ro.MaxFailedNodes {
		return fmt.Sprintf("%d nodes failed, more than max_failed_nodes %d", failedNodes, ro.MaxFailedNodes)
	}
	if pct := float64(failedNodes) * 100 / float64(max(total, 1)); pct > ro.MaxFailedNodesPercent {
		return fmt.Sprintf("%d of %d nodes failed (%.0f%%), more than max_failed_nodes_percent %g%%", failedNodes, total, pct, ro.MaxFailedNodesPercent)
	}
	return ""
}

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner"
	_ "github.com/muster-dev/muster/runner/docker" // the docker driver
	_ "github.com/muster-dev/muster/runner/exec"   // the exec driver
	"github.com/muster-dev/muster/runner/wasm"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// localEngine returns a rollout engine whose only runner is the local
// node's agent, running executions under the state directory.
func localEngine(ctx context.Context, st *state.Store, sf *stateFlags, nf *nodeFlags, events func(apply.Event)) (*apply.Engine, *runner.Agent, error) {
	n, err := nf.localNode()
	if err != nil {
		return nil, nil, err
	}
	agent, err := localAgent(st, sf.dir, n.ID, nodeLimits{})
	if err != nil {
		return nil, nil, err
	}
	return &apply.Engine{Store: st, Runners: apply.NewRunners(map[string]apply.Runner{n.ID: agent}), Events: events}, agent, nil
}

// localAgent returns the agent of the local node, keeping executions under
// the state directory, with a wasm driver of its own fetching modules
// through it.
// An execution may store up to limits.maxOutput bytes of outputs (0: the
// agent's default, 1G); dynamic host ports come from limits.ports (zero:
// the agent's default, 20000-32000).
func localAgent(st *state.Store, stateDir, nodeID string, limits nodeLimits) (*runner.Agent, error) {
	dir, err := filepath.Abs(filepath.Join(stateDir, "executions"))
	if err != nil {
		return nil, err
	}
	agent := &runner.Agent{NodeID: nodeID, Dir: dir, Store: st, MaxOutputSize: limits.maxOutput, PortRange: limits.ports}
	wd := wasm.New()
	wd.Resolve = agent.FetchModule
	wd.CacheDir = filepath.Join(filepath.Dir(dir), "wasm-cache")
	// The agent holds its wasm driver; the drivers of the process stay
	// as registered at init.
	agent.Drivers = runner.DefaultDrivers().With(wd)
	return agent, nil
}

// streamLogs makes the engine's agents copy every line a task prints to w,
// prefixed with its execution id, as it is printed.
func streamLogs(a *runner.Agent, w io.Writer) { streamLogsHiding(a, w, nil) }

// streamLogsHiding is streamLogs that shows the texts of hide (sensitive
// values) as (sensitive) in the lines it copies.
func streamLogsHiding(a *runner.Agent, w io.Writer, hide []string) {
	var mu sync.Mutex
	{
		a.Logs = func(id string) (io.Writer, io.Writer) {
			return &linePrefixer{w: w, mu: &mu, prefix: "  " + id + " | ", hide: hide}, &linePrefixer{w: w, mu: &mu, prefix: "  " + id + " ! ", hide: hide}
		}
	}
}

// linePrefixer writes whole lines to w, each after prefix, with the texts
// of hide shown as (sensitive).
type linePrefixer struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	buf    []byte
	hide   []string
}

func (l *linePrefixer) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := l.buf[:i]
		if len(l.hide) > 0 {
			line = []byte(sensitive.Redact(string(line), l.hide))
		}
		l.mu.Lock()
		fmt.Fprintf(l.w, "%s%s\n", l.prefix, line)
		l.mu.Unlock()
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// rolloutJob is a recorded version to roll out.
type rolloutJob struct {
	spec      *schema.Job
	version   int
	placement plan.Placement
	// hidden are the texts of its sensitive values, which progress never
	// prints.
	hidden []string
}

// runRollouts drives each recorded run-to-completion version and prints
// where its logs and outputs are. It fails when any rollout failed.
func runRollouts(ctx context.Context, w io.Writer, eng *apply.Engine, agent *runner.Agent, st *state.Store, jobs []rolloutJob, asJSON bool) error {
	failed := 0
	for _, rj := range jobs {
		ref := rj.spec.Namespace + "/" + rj.spec.Name
		if rj.spec.Type.LongRunning() {
			if !asJSON {
				fmt.Fprintf(w, "%s: recorded; %s jobs keep running, which needs a long-lived control plane ('muster dev'), not this command\n", ref, rj.spec.Type)
			}
			continue
		}
		if s := rj.spec.Schedule; s != nil {
			if !asJSON {
				fmt.Fprintf(w, "%s: recorded; it is periodic (%q in %s), and its launches need a long-lived control plane: run 'muster dev' (or 'muster server'), which launches it at its times; 'muster launch %s' there runs it at once\n", ref, s.Cron, s.TimeZone, ref)
			}
			continue
		}
		out, err := eng.Rollout(ctx, rj.spec, rj.version, rj.placement, false)
		if errors.Is(err, context.Canceled) {
			return fmt.Errorf("%s: interrupted; the executions that ran were stopped; apply again to resume the rollout", ref)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", ref, err)
		}
		if out.Failed() {
			failed++
		}
		switch {
		case out.State == state.StateQueued && strings.Contains(out.Message, " waits: secret "):
			// It waits for a secret: nothing here will start it later.
			fmt.Fprintf(w, "%s: nothing ran: %s; store it with 'muster secret put' and apply again\n", ref, out.Message)
			failed++
		case out.State == state.StateQueued && strings.Contains(out.Message, " waits for room: "):
			// Nothing here will start it later.
			fmt.Fprintf(w, "%s: nothing ran: %s; run 'muster dev' (or 'muster server' with agents) to run it as room frees\n", ref, out.Message)
			failed++
		case out.State == state.StateQueued:
			// Nothing here will start it later.
			fmt.Fprintf(w, "%s: nothing ran: no node matches the selector; run 'muster dev' (or 'muster server' with agents) to run it when a matching node joins\n", ref)
			failed++
		}
		if !asJSON {
			printOutputs(ctx, w, agent, st, rj)
		}
	}
	if failed > 0 {
		return exitCode(exitError)
	}
	return nil
}

// printOutputs tells where the logs and output documents of a version are.
func printOutputs(ctx context.Context, w io.Writer, a *runner.Agent, st *state.Store, rj rolloutJob) {
	execs, err := st.Executions(ctx, rj.spec.Namespace, rj.spec.Name)
	if err != nil {
		return
	}
	listExecutions(w, execs, rj, func(x state.Execution) string {
		if x.NodeID != a.NodeID {
			return ""
		}
		stdout, _ := a.LogPaths(x.ID)
		return fmt.Sprintf("; logs %s, root %s", filepath.Dir(stdout), filepath.Join(a.ExecutionDir(x.ID), "root"))
	})
}

// maxListed bounds the executions a rollout's summary lists one by one.
const maxListed = 10

// listExecutions lists the latest executions of a version (at most
// maxListed, then a count by state) with their output documents; where
// adds to each line where its logs are.
func listExecutions(w io.Writer, execs []state.Execution, rj rolloutJob, where func(state.Execution) string) int {
	var latest []state.Execution
	counts := map[state.ComputeState]int{}
	for _, x := range execs {
		if x.JobVersion == rj.version && x.NextExecutionID == "" {
			latest = append(latest, x)
			counts[x.Status.ComputeState]++
		}
	}
	for i, x := range latest {
		if i == maxListed {
			var parts []string
			for _, st := range state.ComputeStates {
				if counts[st] > 0 {
					parts = append(parts, fmt.Sprintf("%d %s", counts[st], st))
				}
			}
			fmt.Fprintf(w, "  and %d more; all %d: %s (muster executions %s/%s)\n", len(latest)-maxListed, len(latest), strings.Join(parts, ", "), rj.spec.Namespace, rj.spec.Name)
			break
		}
		fmt.Fprintf(w, "  %s on %s: %s%s\n", x.ID, x.NodeID, x.Status.ComputeState, where(x))
		for _, d := range x.Outputs {
			fmt.Fprintf(w, "    output %s: %s (%d bytes; muster doc get %s)\n", d.Path, d.Hash, d.Size, d.Hash)
		}
	}
	return len(latest)
}

// loadJob reads the stored spec of a job's current version.
func loadJob(ctx context.Context, st api.Backend, ns, name string) (*schema.Job, state.JobStatus, error) {
	js, err := jobStatus(ctx, st, ns, name)
	if err != nil {
		return nil, js, err
	}
	b, err := st.Spec(ctx, js.Hash)
	if err != nil {
		return nil, js, err
	}
	j, err := specFromCanonical(b)
	return j, js, err
}

// specFromCanonical decodes canonical spec bytes, checking that they read
// back to the same hash.
func specFromCanonical(b []byte) (*schema.Job, error) { return schema.FromCanonical(b) }

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/plan"
)

func newPlan() *cobra.Command {
	var in inputFlags
	var sf stateFlags
	var nf nodeFlags
	var out outputFlag
	var saveTo string
	var detailed bool
	c := &cobra.Command{
		Use:   "plan FILE...",
		Short: "Show what applying job files would change",
		Long: `Plan compiles job files and diffs them against the stored state: for each job
the action (create, update, no-op), the version and spec hash before and
after, the field-level diff (+ added, - removed, ~ changed, with exact paths),
the change class (none, metadata, in-place, destructive: which executions are
replaced), the matched nodes, the canary set and the waves of the rollout.

A job whose canonical spec is unchanged shows no diff, whatever format or
spelling of defaults it is written in. Plans are deterministic.

--out saves the plan with each job's base revision and spec; 'muster apply
PLANFILE' applies exactly that and refuses if any job moved since. The saved
file holds each spec whole, with the values of sensitive variables in clear
(as the spec store does): it is written readable by its owner only (0600).

Values of HCL sensitive variables show as (sensitive) in the diff, text or
JSON (where "old_sensitive"/"new_sensitive" mark them), and in the specs of
-o json, whose "sensitive_paths" name them per job; a plan printed with
-o json therefore does not apply: save one with --out.
--nodes plans against an inventory file instead of the live nodes, for CI and
what-if questions: [{id, labels, cpus, memory}] in YAML or JSON, where cpus
(4, 0.5, "500m") and memory ("8G") are what a node offers (left out:
unlimited), and nothing is placed on the nodes yet.

Placement puts an execution only on a node with room for its
task.resources beside the executions placed there and not yet ended (a
node that advertises no capacity is unlimited); what fits nowhere is
counted as unplaced, and the plan says why ("placement.unplaced_reason",
and a warning): "1 execution cannot be placed: no matching node has 4 cpus
free (largest free: 2 cpus on n1)".

Exit status: 0 success; 1 error; with --detailed-exitcode, 0 when applying
would do nothing and 2 when it would act: a job created or updated, a
stopped job started again, or a rollout left unfinished (pending,
deploying, queued executions waiting for room) resumed.`,
		Example: `  muster plan jobs/
  muster plan --out web.plan web.hcl --var image=web:1.5
  muster plan --nodes inventory.yaml -o json jobs/ | jq '.jobs[].placement'
  muster plan --detailed-exitcode jobs/ || [ $? -eq 2 ]`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			jobs, err := compileArgs(c, &in, args, true)
			if err != nil {
				return err
			}
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			p, err := nf.planDesired(ctx, st, desired(jobs))
			if err != nil {
				return err
			}
			if saveTo != "" {
				if err := savePlan(saveTo, p); err != nil {
					return err
				}
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				shown, err := p.Hidden()
				if err != nil {
					return err
				}
				if err := writeJSON(w, shown); err != nil {
					return err
				}
			} else {
				plan.WriteText(w, p)
				if saveTo != "" {
					fmt.Fprintf(w, "Saved the plan to %s: run 'muster apply %s' to apply exactly this.\n", saveTo, saveTo)
				}
			}
			if detailed && (p.Changes() || wouldAct(ctx, st, p)) {
				return exitCode(exitChanges)
			}
			return nil
		},
	}
	in.register(c)
	sf.register(c)
	nf.register(c, true)
	out.register(c, "text", "json")
	c.Flags().StringVar(&saveTo, "out", "", "save the plan to `file` for 'muster apply'")
	c.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 when apply would do nothing, 2 when it would act, 1 on error")
	return c
}

// wouldAct reports whether applying p acts on a job it leaves unchanged
// (see applyActs).
func wouldAct(ctx context.Context, st *plane, p *plan.Plan) bool {
	for _, j := range p.Jobs {
		if applyActs(ctx, st, j) != "" {
			return true
		}
	}
	return false
}

// desired pairs compiled jobs with the paths of their sensitive values.
func desired(jobs []compiler.Job) []plan.Desired {
	out := make([]plan.Desired, len(jobs))
	for i, j := range jobs {
		out[i] = plan.Desired{Job: j.Spec, Sensitive: j.Sensitive}
	}
	return out
}

// savePlan writes p atomically, readable only by its owner (plans hold
// specs, which may hold the values of sensitive variables). The file is
// written under a new random name (os.CreateTemp: mode 0600, never an
// existing file or link) and renamed over path, so that neither a file
// already there nor a planted link widens who can read it. Specs are
// written without HTML escaping, so that compacting them again gives back
// their exact canonical bytes.
func savePlan(path string, p *plan.Plan) error {
	var b bytes.Buffer
	if err := writeJSON(&b, p); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	if _, err = f.Write(b.Bytes()); err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

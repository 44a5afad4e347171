package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

func newApply() *cobra.Command {
	var in inputFlags
	var sf stateFlags
	var nf nodeFlags
	var autoApprove, detach bool
	var out outputFlag
	c := &cobra.Command{
		Use:   "apply FILE...|PLANFILE",
		Short: "Record new job versions (from job files or a saved plan) and roll them out",
		Long: `Apply makes the stored state match job files: it plans (see 'muster plan'),
shows the plan, asks for confirmation and records each changed job's new
version, with a compare-and-set on the revision the plan was based on.

Given a plan saved with 'muster plan --out', apply records exactly the
versions that plan showed, without asking again, and refuses, naming the job,
if any job's stored revision moved since the plan was made.

Then it rolls out every recorded version: the canary set, then the waves,
each execution through its engine's driver, with progress as it goes (a live
view on a terminal); at the end it says where the logs and the output
documents are. A failed rollout rolls back to the last stable version unless
the job sets no_auto_rollback. A canary rollout without auto_promote pauses
after its canary set until 'muster promote JOB' (a job's first version and a
rollback do not pause): apply then returns, exit status 0, saying how to
promote; 'muster rollout status JOB' follows the rest.

With a running control plane ('muster dev' holding the state directory, or
--addr / MUSTER_ADDR), the control plane runs the rollout and apply follows
it until it finished (for service and daemon jobs, until every execution is
healthy) or paused for promotion. With --detach it returns once the rollouts
started. Without one,
apply runs batch and ops jobs itself on the local node, and only records
service and daemon jobs: they need 'muster dev'.

Without --auto-approve, apply asks on a terminal and refuses to run when
standard input is not one. Exit status is 1 when any rollout fails or rolls
back. With -o json, progress is printed as JSON lines, one event each.`,
		Example: `  muster apply jobs/
  muster apply --auto-approve web.yaml
  muster apply --auto-approve --detach --addr 10.0.0.5:4747 web.yaml
  muster plan --out web.plan web.yaml && muster apply web.plan`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := c.Context()
			w, events := c.OutOrStdout(), c.OutOrStdout()
			if out.value == "json" {
				w = c.ErrOrStderr() // stdout carries only the JSON events
			}
			if len(args) == 1 {
				if p, ok, err := readPlanFile(args[0]); err != nil {
					return err
				} else if ok {
					st, err := sf.open(ctx)
					if err != nil {
						return err
					}
					defer st.Close()
					if err := checkDetach(st, detach); err != nil {
						return err
					}
					recorded, err := record(ctx, w, st, p, true)
					if err != nil {
						return err
					}
					if p.Nodes != "live" {
						// A plan made against an inventory (in CI, say) records
						// its versions exactly; where they run is decided by the
						// nodes that are really here.
						if recorded, err = placeLive(ctx, w, st, &nf, recorded, p.Nodes); err != nil {
							return err
						}
					}
					return rollOut(ctx, events, st, &sf, &nf, recorded, out.value == "json", detach)
				}
			}
			jobs, err := compileArgs(c, &in, args, true)
			if err != nil {
				return err
			}
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := checkDetach(st, detach); err != nil {
				return err
			}
			p, err := nf.planDesired(ctx, st, desired(jobs))
			if err != nil {
				return err
			}
			plan.WriteText(w, p)
			if p.Changes() && !autoApprove {
				if err := confirm(c.InOrStdin(), w); err != nil {
					return err
				}
			}
			recorded, err := record(ctx, w, st, p, false)
			if err != nil {
				return err
			}
			return rollOut(ctx, events, st, &sf, &nf, recorded, out.value == "json", detach)
		},
	}
	in.register(c)
	sf.register(c)
	nf.register(c, false)
	c.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	c.Flags().BoolVar(&detach, "detach", false, "with a running control plane: start the rollouts and return without following them")
	out.register(c, "text", "json")
	return c
}

// placeLive places recorded versions on the live nodes.
func placeLive(ctx context.Context, w io.Writer, st *plane, nf *nodeFlags, recorded []rolloutJob, source string) ([]rolloutJob, error) {
	nodes, _, err := nf.nodes(ctx, st)
	if err != nil {
		return nil, err
	}
	for i := range recorded {
		pl, _ := plan.Place(recorded[i].spec, nodes)
		recorded[i].placement = pl
	}
	fmt.Fprintf(w, "The plan was made against %s; its versions run on the live nodes.\n", source)
	return recorded, nil
}

// rollOut runs the rollouts of the recorded versions: through the API of a
// running control plane, or in this process on the local node.
func rollOut(ctx context.Context, w io.Writer, p *plane, sf *stateFlags, nf *nodeFlags, recorded []rolloutJob, asJSON, detach bool) error {
	if len(recorded) == 0 {
		return nil
	}
	if p.ctl != nil && detach {
		for _, rj := range recorded {
			if err := p.ctl.Rollout(ctx, rj.spec.Namespace, rj.spec.Name, rj.version, false); err != nil {
				return fmt.Errorf("%s/%s: %w", rj.spec.Namespace, rj.spec.Name, err)
			}
			if !asJSON {
				fmt.Fprintf(w, "%s/%s: rolling out version %d in the control plane; follow it with 'muster status %s/%s'\n", rj.spec.Namespace, rj.spec.Name, rj.version, rj.spec.Namespace, rj.spec.Name)
			}
		}
		return nil
	}
	if p.ctl != nil {
		return remoteRollouts(ctx, w, p, recorded, asJSON, false)
	}
	st := p.store
	pr := newProgress(w, asJSON)
	pr.hide = hiddenValues(recorded)
	defer pr.close()
	eng, agent, err := localEngine(ctx, st, sf, nf, pr.event)
	if err != nil {
		return err
	}
	// Task output and summaries go above a live view's bars.
	w = progressWriter(pr, w)
	if !asJSON {
		streamLogsHiding(agent, w, pr.hide)
	}
	return runRollouts(ctx, w, eng, agent, st, recorded, asJSON)
}

// checkDetach refuses --detach where nothing would go on with the rollout.
func checkDetach(p *plane, detach bool) error {
	if detach && p.ctl == nil {
		return errors.New("--detach needs a running control plane to go on with the rollout: start 'muster dev', or name one with --addr")
	}
	return nil
}

// readPlanFile reads path as a saved plan. ok is false when the file is not
// a plan (then it is a job file).
func readPlanFile(path string) (*plan.Plan, bool, error) {
	if fi, err := os.Stat(path); path == "-" || err == nil && fi.IsDir() {
		return nil, false, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %v", path, errText(err))
	}
	var probe struct {
		FormatVersion *string `json:"format_version"`
	}
	if !bytes.HasPrefix(bytes.TrimSpace(b), []byte("{")) || json.Unmarshal(b, &probe) != nil || probe.FormatVersion == nil {
		return nil, false, nil
	}
	if *probe.FormatVersion != plan.FormatVersion {
		return nil, false, fmt.Errorf("%s: plan format_version %q; this muster reads %q", path, *probe.FormatVersion, plan.FormatVersion)
	}
	var p plan.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, false, fmt.Errorf("%s: not a valid plan: %v", path, err)
	}
	for i := range p.Jobs {
		j := &p.Jobs[i]
		var spec bytes.Buffer
		if err := json.Compact(&spec, j.Spec); err != nil {
			return nil, false, fmt.Errorf("%s: the spec of %s: %v", path, j.Ref(), err)
		}
		j.Spec = spec.Bytes()
		if got := schema.HashBytes(j.Spec); j.Action != plan.NoOp && got != j.ToHash {
			if len(j.SensitivePaths) > 0 && bytes.Contains(j.Spec, []byte(sensitive.Marker)) {
				return nil, false, fmt.Errorf("%s: the spec of %s shows its sensitive values hidden, as 'muster plan -o json' prints it: a plan to apply is saved with 'muster plan --out FILE'", path, j.Ref())
			}
			return nil, false, fmt.Errorf("%s: the spec of %s hashes to %s, not the %s the plan shows: the file was edited", path, j.Ref(), got, j.ToHash)
		}
	}
	return &p, true, nil
}

func confirm(stdin io.Reader, w io.Writer) error {
	if f, ok := stdin.(*os.File); !ok || !isTerminal(f) {
		return errors.New("refusing to apply without confirmation: standard input is not a terminal; pass --auto-approve, or save the plan with 'muster plan --out F' and run 'muster apply F'")
	}
	fmt.Fprint(w, "Apply these changes? Only 'yes' is accepted: ")
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	if strings.TrimSpace(line) != "yes" {
		return errors.New("apply cancelled")
	}
	return nil
}

func isTerminal(f *os.File) bool {
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// record commits the new versions of p. A saved plan is first checked whole:
// if any job moved since it was made, nothing is recorded.
func record(ctx context.Context, w io.Writer, st *plane, p *plan.Plan, saved bool) ([]rolloutJob, error) {
	if saved {
		if err := checkBase(ctx, st, p); err != nil {
			return nil, err
		}
	}
	var recorded []rolloutJob
	for _, j := range p.Jobs {
		hidden, err := hiddenOf(j)
		if err != nil {
			return recorded, err
		}
		if j.Action == plan.NoOp {
			if err := keepSensitive(ctx, st, j); err != nil {
				return recorded, err
			}
			js, err := st.Job(ctx, j.Namespace, j.Name)
			if err != nil {
				continue
			}
			spec, err := specFromCanonical(j.Spec)
			if err != nil {
				return recorded, err
			}
			switch what, _ := apply.WhenUnchanged(js, spec.Type.LongRunning(), st.ctl == nil); what {
			case apply.Restart:
				fmt.Fprintf(w, "%s: version %d is stopped; starting it again\n", j.Ref(), js.Version)
			case apply.Resume:
				fmt.Fprintf(w, "%s: version %d was left %s by an interrupted rollout; resuming it\n", j.Ref(), js.Version, js.State)
			default:
				continue
			}
			recorded = append(recorded, rolloutJob{spec: spec, version: js.Version, placement: j.Placement, hidden: hidden})
			continue
		}
		spec, err := specFromCanonical(j.Spec)
		if err != nil {
			return recorded, fmt.Errorf("%s: %w", j.Ref(), err)
		}
		if _, err := st.PutSpec(ctx, j.Spec); err != nil {
			return recorded, fmt.Errorf("%s: storing the spec: %w", j.Ref(), err)
		}
		if err := keepSensitive(ctx, st, j); err != nil {
			return recorded, err
		}
		js, err := commit(ctx, st, j, saved)
		var conflict *state.ConflictError
		if errors.As(err, &conflict) {
			return recorded, fmt.Errorf("%s changed since this plan was made (revision %d, now %d): nothing more was applied; run 'muster plan' again", j.Ref(), j.BaseRevision, conflict.Current)
		}
		if err != nil {
			return recorded, fmt.Errorf("%s: %w", j.Ref(), err)
		}
		recorded = append(recorded, rolloutJob{spec: spec, version: js.Version, placement: j.Placement, hidden: hidden})
		fmt.Fprintf(w, "%s: recorded version %d (%s), revision %d\n", j.Ref(), js.Version, js.Hash, js.Revision)
	}
	if len(recorded) == 0 {
		fmt.Fprintln(w, "No changes: the stored jobs already match.")
	}
	return recorded, nil
}

// commitAttempts bounds the commits of a plan made just now that a
// control plane's own state changes keep overtaking.
const commitAttempts = 5

// commit records the version j plans. A plan made just now (not saved)
// whose job only changed state since (a control plane recorded it
// running, degraded, resumed), at the version and hash it was planned
// from, is committed over the new revision: the plan still says what the
// commit does. A saved plan applies only at the revision it shows.
func commit(ctx context.Context, st *plane, j plan.JobPlan, saved bool) (state.JobStatus, error) {
	base := j.BaseRevision
	for attempt := 1; ; attempt++ {
		js, err := st.CommitVersion(ctx, j.Namespace, j.Name, j.ToHash, base, state.StatePending)
		if saved || attempt == commitAttempts || !isConflict(err) {
			return js, err
		}
		cur, rerr := st.Job(ctx, j.Namespace, j.Name)
		if rerr != nil || cur.Version != j.FromVersion || cur.Hash != j.FromHash {
			return js, err
		}
		base = cur.Revision
	}
}

// isConflict reports whether err is a lost compare-and-set, from the
// store or through the API.
func isConflict(err error) bool {
	var conflict *state.ConflictError
	var apiErr *api.Error
	return errors.As(err, &conflict) || errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict
}

// keepSensitive records the sensitive paths of a job's spec with it, before
// the version is committed, so that no command shows those values.
func keepSensitive(ctx context.Context, st api.Backend, j plan.JobPlan) error {
	if len(j.SensitivePaths) == 0 {
		return nil
	}
	if _, err := st.AddSensitivePaths(ctx, j.ToHash, j.SensitivePaths); err != nil {
		return fmt.Errorf("%s: recording which values are sensitive: %w", j.Ref(), err)
	}
	return nil
}

// hiddenOf returns the texts of the sensitive values of a job's spec, which
// rollout output must not show.
func hiddenOf(j plan.JobPlan) ([]string, error) {
	values, err := sensitive.Values(j.Spec, j.SensitivePaths)
	if err != nil {
		return nil, fmt.Errorf("%s: the spec: %w", j.Ref(), err)
	}
	return values, nil
}

// hiddenValues returns the sensitive values of every job.
func hiddenValues(jobs []rolloutJob) []string {
	var out []string
	for _, rj := range jobs {
		out = append(out, rj.hidden...)
	}
	return out
}

// unfinished reports whether a job state means a rollout is under way (and
// so, when no process drives it, was interrupted).

// checkBase refuses a saved plan when any of its jobs moved since.
func checkBase(ctx context.Context, st api.Backend, p *plan.Plan) error {
	var stale []string
	for _, j := range p.Jobs {
		js, err := st.Job(ctx, j.Namespace, j.Name)
		var rev uint64
		switch {
		case errors.Is(err, state.ErrNotFound):
		case err != nil:
			return fmt.Errorf("%s: %w", j.Ref(), err)
		default:
			rev = js.Revision
		}
		if rev != j.BaseRevision {
			stale = append(stale, fmt.Sprintf("%s is at revision %d, the plan was made at revision %d", j.Ref(), rev, j.BaseRevision))
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("the saved plan is stale, nothing was applied:\n  %s\nrun 'muster plan' again", strings.Join(stale, "\n  "))
	}
	return nil
}

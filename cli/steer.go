package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

func newPromote() *cobra.Command {
	var sf stateFlags
	var nf nodeFlags
	var out outputFlag
	c := &cobra.Command{
		Use:   "promote JOB",
		Short: "Continue a canary rollout paused after its canary set",
		Long: `Promote continues the rollout of a job whose canary rollout paused after the
canary set succeeded (state rollout_paused): the remaining waves run now.
Executions that already completed for this version are not run again, and
the canary's running service executions are kept. Through a running control
plane ('muster dev', --addr) the control plane goes on with the rollout and
promote follows it to its end.`,
		Example: `  muster promote web
  muster promote -o json payments/report`,
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
			j, js, err := loadJob(ctx, st, ns, name)
			if err != nil {
				return err
			}
			if err := apply.CanPromote(js); err != nil {
				return err
			}
			if st.ctl != nil {
				return remoteRollouts(ctx, c.OutOrStdout(), st, []rolloutJob{{spec: j, version: js.Version}}, out.value == "json", true)
			}
			p, err := nf.plan(ctx, st, []*schema.Job{j})
			if err != nil {
				return err
			}
			pr := newProgress(c.OutOrStdout(), out.value == "json")
			defer pr.close()
			w := progressWriter(pr, c.OutOrStdout())
			eng, agent, err := localEngine(ctx, st.store, &sf, &nf, pr.event)
			if err != nil {
				return err
			}
			if !pr.json {
				streamLogs(agent, w)
			}
			rj := rolloutJob{spec: j, version: js.Version, placement: p.Jobs[0].Placement}
			o, err := eng.Rollout(ctx, j, js.Version, rj.placement, true)
			if err != nil {
				return err
			}
			if !pr.json {
				printOutputs(ctx, w, agent, st.store, rj)
			}
			if o.Failed() {
				return exitCode(exitError)
			}
			return nil
		},
	}
	sf.register(c)
	nf.register(c, false)
	out.register(c, "text", "json")
	return c
}

func newExecutions() *cobra.Command {
	var sf stateFlags
	var lf listFlags
	var out outputFlag
	var all bool
	c := &cobra.Command{
		Use:   "executions [JOB]",
		Short: "List the executions of a job, or of every job",
		Long: `Executions lists the executions of a job's current version, and those of
other versions that still run (all versions with --all): id, version, node,
compute and desired state, and the message.

Without JOB it lists those of every job, with the job first; -n keeps the
jobs of one namespace and -l the jobs whose labels match a selector
(Kubernetes syntax: env=prod,tier!=db,zone in (a,b),canary,!legacy).`,
		Example: `  muster executions hello
  muster executions --all -o json payments/report
  muster executions -n payments -l tier=web`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var jobs []state.JobStatus
			if len(args) == 1 {
				ns, name, err := splitJob(args[0])
				if err != nil {
					return err
				}
				js, err := jobStatus(ctx, st, ns, name)
				if err != nil {
					return err
				}
				jobs = []state.JobStatus{js}
			} else if jobs, err = lf.jobs(ctx, st); err != nil {
				return err
			}
			list := []state.Execution{}
			for _, js := range jobs {
				execs, err := jobExecutions(ctx, st, js, all)
				if err != nil {
					return err
				}
				list = append(list, execs...)
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				return writeJSON(w, list)
			}
			if len(args) == 0 && len(list) == 0 {
				fmt.Fprintln(w, "No executions.")
				return nil
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			job := func(state.Execution) string { return "" }
			if len(args) == 0 {
				fmt.Fprint(tw, "JOB\t")
				job = func(x state.Execution) string { return x.JobID + "\t" }
			}
			fmt.Fprintln(tw, "ID\tVERSION\tNODE\tSTATE\tDESIRED\tUPDATED\tMESSAGE")
			for _, x := range list {
				fmt.Fprintf(tw, "%s%s\t%d\t%s\t%s\t%s\t%s\t%s\n", job(x), x.ID, x.JobVersion, x.NodeID, x.Status.ComputeState,
					x.Status.DesiredState, x.UpdatedAt.UTC().Format(time.RFC3339), x.Status.Message)
			}
			return tw.Flush()
		},
	}
	sf.registerRead(c)
	lf.register(c, true)
	out.register(c, "text", "json")
	c.Flags().BoolVar(&all, "all", false, "list the executions of every version")
	return c
}

// jobExecutions returns the executions of a job's current version (of
// every version with all), with the sensitive values of their messages
// hidden.
func jobExecutions(ctx context.Context, st api.Backend, js state.JobStatus, all bool) ([]state.Execution, error) {
	execs, err := st.Executions(ctx, js.Namespace, js.Name)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return nil, err
	}
	var list []state.Execution
	for _, x := range execs {
		if all || x.JobVersion == js.Version || x.Status.ComputeState.Active() {
			list = append(list, x)
		}
	}
	if err := hideExecutionMessages(ctx, st, js.Namespace, js.Name, list); err != nil {
		return nil, err
	}
	return list, nil
}

func newLogs() *cobra.Command {
	var sf stateFlags
	var nf nodeFlags
	var sel logSelect
	var stderrOnly, follow bool
	c := &cobra.Command{
		Use:   "logs JOB",
		Short: "Print the logs of a job's executions",
		Long: `Logs prints what the executions of a job's current version wrote to stdout
(with --stderr, to stderr), each preceded by a header line when there are
several. Of each execution that was restarted it prints the latest; --all
adds those it replaced, and --previous prints, instead of each latest, the
execution it replaced (previous_execution_id): the one that failed.

--version N prints the executions of version N instead of the current one:
after a rollback, the failed version's output is 'muster logs JOB --version N
--stderr'. --execution ID prints one execution of any version (ID may be a
unique prefix; see 'muster executions --all JOB').

Through a running 'muster dev' or 'muster server' it reads the logs from the
node that ran each execution; otherwise from this node.

With --follow it keeps printing what the executions write until they end
(or until interrupted), and follows the executions that replace them; for
the current version, it follows the next version too.`,
		Example: `  muster logs hello
  muster logs --follow web
  muster logs --stderr payments/report
  muster logs --previous --stderr web
  muster logs --version 3 --stderr web
  muster logs --execution 01J9Z8 web`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := sel.check(follow); err != nil {
				return err
			}
			ctx, st, ns, name, err := sf.openJob(c, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			js, err := jobStatus(ctx, st, ns, name)
			if err != nil {
				return err
			}
			if sel.version > js.Version {
				return fmt.Errorf("%s/%s has no version %d: its current version is %d (see 'muster history %s/%s')", ns, name, sel.version, js.Version, ns, name)
			}
			var read logReader
			if st.ctl != nil {
				read = func(ctx context.Context, x state.Execution, stream string, off int64) ([]byte, error) {
					return st.ctl.ReadLog(ctx, ns, name, x.ID, stream, off)
				}
			} else {
				_, agent, err := localEngine(ctx, st.store, &sf, &nf, nil)
				if err != nil {
					return err
				}
				read = func(ctx context.Context, x state.Execution, stream string, off int64) ([]byte, error) {
					if x.NodeID != agent.NodeID {
						return nil, fmt.Errorf("execution %s ran on node %s, not this one; reach that node through 'muster dev' or 'muster server'", x.ID, x.NodeID)
					}
					return agent.ReadLog(ctx, x.ID, stream, off)
				}
			}
			stream := "stdout"
			if stderrOnly {
				stream = "stderr"
			}
			l := &logPrinter{w: c.OutOrStdout(), read: read, stream: stream, offsets: map[string]int64{}, hide: versionHider(st, ns, name)}
			return l.run(ctx, st, ns, name, sel, follow)
		},
	}
	sf.registerRead(c)
	nf.register(c, false)
	c.Flags().BoolVar(&stderrOnly, "stderr", false, "print stderr instead of stdout")
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing as the executions write, until they end")
	c.Flags().BoolVar(&sel.all, "all", false, "include executions that were replaced (restarts), not only the latest of each")
	c.Flags().BoolVarP(&sel.previous, "previous", "p", false, "print the execution each latest one replaced when it was restarted")
	c.Flags().IntVar(&sel.version, "version", 0, "print the executions of version `N` (default: the current version)")
	c.Flags().StringVar(&sel.execution, "execution", "", "print the execution `ID` (or a unique prefix of it), of any version")
	return c
}

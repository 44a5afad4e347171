package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
)

func newStop() *cobra.Command {
	var sf stateFlags
	c := &cobra.Command{
		Use:   "stop JOB",
		Short: "Stop a job: no execution of it runs any more",
		Long: `Stop marks a job stopped and every execution of it that has not ended as
desired stopped and stopped. Its versions stay; applying it again starts it.`,
		Example: "  muster stop web",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, st, ns, name, err := sf.openJob(c, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			if _, _, err := loadJob(ctx, st, ns, name); err != nil {
				return err
			}
			var stopped int
			if st.ctl != nil {
				stopped, err = st.ctl.Stop(ctx, ns, name)
			} else {
				stopped, err = apply.StopRecorded(ctx, st.store, ns, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s/%s: stopped (%d executions stopped)\n", ns, name, stopped)
			return nil
		},
	}
	sf.register(c)
	return c
}

func newRollback() *cobra.Command {
	var sf stateFlags
	var nf nodeFlags
	var out outputFlag
	var to int
	c := &cobra.Command{
		Use:   "rollback JOB",
		Short: "Record an earlier version's spec as the job's new version and roll it out",
		Long: `Rollback takes the spec of an earlier version (--to-version N, or the version
before the current one) and records it as a new version, the way a fix
would be applied, then rolls it out like apply does. History keeps every
version, so a rollback can itself be rolled back.`,
		Example: "  muster rollback web\n  muster rollback web --to-version 3",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx, st, ns, name, err := sf.openJob(c, args[0])
			if err != nil {
				return err
			}
			defer st.Close()
			_, js, err := loadJob(ctx, st, ns, name)
			if err != nil {
				return err
			}
			versions, err := st.History(ctx, ns, name)
			if err != nil {
				return err
			}
			target, err := apply.RollbackTarget(versions, js, to)
			if err != nil {
				return err
			}
			spec, err := st.Spec(ctx, target.Hash)
			if err != nil {
				return err
			}
			j, err := specFromCanonical(spec)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			p, err := nf.plan(ctx, st, []*schema.Job{j})
			if err != nil {
				return err
			}
			if out.value != "json" {
				plan.WriteText(w, p)
			}
			recorded, err := record(ctx, w, st, p, false)
			if err != nil {
				return err
			}
			return rollOut(ctx, w, st, &sf, &nf, recorded, out.value == "json", false)
		},
	}
	sf.register(c)
	nf.register(c, false)
	out.register(c, "text", "json")
	c.Flags().IntVar(&to, "to-version", 0, "roll back to version `N` (default: the version before the current one)")
	return c
}

package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/state"
)

func newDoctor() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	var accept bool
	c := &cobra.Command{
		Use:   "doctor",
		Short: "Check the stored state for damage",
		Long: `Doctor reads the whole stored state, changing nothing, and reports what is
damaged: streams that lost writes since the state was last used (damaged
files under the state directory), specs and documents whose bytes no longer
hash to their name, job statuses and version chains that do not link, and
executions of versions their job never reached. Every other command refuses
to act on a damaged state; doctor says why.

It exits 0 when the state is sound and 1 when it is damaged. The way out is
to restore the state directory from a backup. Without one, --accept-loss
goes on with what is left: it deletes the executions of lost versions and
records the streams as they are now, so that the other commands work again
(the lost writes stay lost). It needs the state directory itself: stop a
'muster dev' holding it first.`,
		Example: `  muster doctor
  muster doctor -o json
  muster doctor --accept-loss`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx := c.Context()
			sf.allowDamaged = true
			p, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer p.Close()
			progress := func(what string) { fmt.Fprintf(c.ErrOrStderr(), "checking %s\n", what) }
			if out.value == "json" {
				progress = nil
			}
			if accept {
				if p.store == nil {
					return fmt.Errorf("--accept-loss changes the state directory itself: stop the control plane at %s first", p.addr)
				}
				removed, err := p.store.AcceptLoss(ctx)
				for _, r := range removed {
					fmt.Fprintf(c.ErrOrStderr(), "deleted %s\n", r)
				}
				if err != nil {
					return err
				}
			}
			rep, err := p.Check(ctx, progress)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				if rep.Findings == nil {
					rep.Findings = []state.Finding{}
				}
				if err := writeJSON(w, rep); err != nil {
					return err
				}
			} else {
				writeReport(w, rep)
			}
			if rep.Damaged() {
				return exitCode(exitError)
			}
			return nil
		},
	}
	sf.register(c)
	out.register(c, "text", "json")
	c.Flags().BoolVar(&accept, "accept-loss", false, "go on with what is left: delete the executions of lost versions and record the streams as they are now")
	return c
}

// writeReport prints a check report for people.
func writeReport(w io.Writer, rep state.CheckReport) {
	kinds := make([]string, 0, len(rep.Counts))
	for k := range rep.Counts {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d %s", rep.Counts[k], k)
	}
	checked := strings.Join(parts, ", ")
	if checked == "" {
		checked = "nothing stored yet"
	}
	if !rep.Damaged() {
		fmt.Fprintf(w, "The state is sound (checked %s).\n", checked)
		return
	}
	fmt.Fprintf(w, "The state is damaged: %s (checked %s).\n", plural(len(rep.Findings), "finding"), checked)
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "  %s: %s\n", f.Record, f.Problem)
	}
	fmt.Fprintln(w, "Restore the state from a backup, or run 'muster doctor --accept-loss' to go on with what is left.")
}

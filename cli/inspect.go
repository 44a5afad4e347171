package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

func newHistory() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	var patch bool
	c := &cobra.Command{
		Use:   "history JOB",
		Short: "List the versions of a job",
		Long: `History lists every recorded version of a job (NAME or NAMESPACE/NAME) with
its spec hash, when it was recorded and how its rollout went (completed,
failed, rolled back to or from a version, superseded, stopped, or where it
is while it goes on). With -p it also shows the field diff
between each version and the one before it; values of sensitive variables
show as (sensitive).`,
		Example: `  muster history web
  muster history -p payments/web`,
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
			versions, err := st.History(ctx, ns, name)
			if errors.Is(err, state.ErrNotFound) || err == nil && len(versions) == 0 {
				return fmt.Errorf("job %s/%s has no versions: it was never applied", ns, name)
			}
			if err != nil {
				return err
			}
			type row struct {
				state.Version
				Diff    []plan.Change   `json:"diff,omitempty"`
				Rollout *versionRollout `json:"rollout,omitempty"`
			}
			outcomes, err := versionRollouts(ctx, st, ns, name)
			if err != nil {
				return err
			}
			rows := make([]row, len(versions))
			var prev []byte
			var prevHidden []string
			for i, v := range versions {
				rows[i].Version, rows[i].Rollout = v, outcomes[v.Version]
				spec, err := st.Spec(ctx, v.Hash)
				if err != nil {
					return fmt.Errorf("version %d: %w", v.Version, err)
				}
				hidden, err := st.SensitivePaths(ctx, v.Hash)
				if err != nil {
					return fmt.Errorf("version %d: %w", v.Version, err)
				}
				if patch && prev != nil {
					if rows[i].Diff, err = plan.DiffHiding(prev, spec, prevHidden, hidden); err != nil {
						return err
					}
				}
				prev, prevHidden = spec, hidden
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				return writeJSON(w, rows)
			}
			for _, r := range rows {
				fmt.Fprintf(w, "version %d  %s  %s  %s\n", r.Version.Version, r.Hash, r.CreatedAt.UTC().Format(time.RFC3339), rolloutText(r.Rollout))
				if patch {
					plan.WriteDiff(w, r.Diff)
				}
			}
			return nil
		},
	}
	sf.registerRead(c)
	out.register(c, "text", "json")
	c.Flags().BoolVarP(&patch, "patch", "p", false, "show the diff between consecutive versions")
	return c
}

func newGet() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	var show bool
	c := &cobra.Command{
		Use:   "get REF",
		Short: "Print a stored canonical spec by job reference or hash",
		Long: `Get prints the stored canonical spec of a job version. REF is one of:

  NAMESPACE/NAME@sha256:HEX   a version of that job (HEX may be a unique prefix of 12 or more)
  sha256:HEX or HEX           any stored spec by its hash or a unique prefix
  NAMESPACE/NAME or NAME      the job's current version

With -o json it prints exactly the stored (hashed) bytes, unless the spec
holds values of sensitive variables: those show as (sensitive), in text and
JSON alike, and the bytes no longer hash to the spec's address (get says so
on stderr). --show-sensitive prints them as stored.`,
		Example: `  muster get default/web@sha256:3f2a9c0b1d4e
  muster get -o json --show-sensitive sha256:3f2a9c0b1d4e5f60 | sha256sum`,
		Args: cobra.ExactArgs(1),
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
			hash, spec, err := resolveRef(c, st, args[0])
			if err != nil {
				return err
			}
			if !show {
				if spec, err = hideSpec(c, st, hash, spec, out.value == "json"); err != nil {
					return err
				}
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				_, err := fmt.Fprintf(w, "%s\n", spec)
				return err
			}
			var buf bytes.Buffer
			if err := json.Indent(&buf, spec, "", "  "); err != nil {
				return err
			}
			_, err = fmt.Fprintf(w, "%s\n", buf.Bytes())
			return err
		},
	}
	sf.registerRead(c)
	out.register(c, "text", "json")
	c.Flags().BoolVar(&show, "show-sensitive", false, "print the values of sensitive variables as stored")
	return c
}

// hideSpec returns spec with the values recorded sensitive for hash shown
// as (sensitive), and says so on stderr; asJSON adds that the bytes no
// longer hash.
func hideSpec(c *cobra.Command, st api.Backend, hash string, spec []byte, asJSON bool) ([]byte, error) {
	paths, err := st.SensitivePaths(c.Context(), hash)
	if err != nil {
		return nil, err
	}
	return hideValues(c, hash, spec, paths, asJSON)
}

// hideValues returns spec with the values at paths shown as (sensitive),
// and says so on stderr.
func hideValues(c *cobra.Command, hash string, spec []byte, paths []string, asJSON bool) ([]byte, error) {
	shown, hidden, err := sensitive.Hide(spec, paths)
	if err != nil || !hidden {
		return spec, err
	}
	note := fmt.Sprintf("values of sensitive variables show as %s (%s)", sensitive.Marker, strings.Join(paths, ", "))
	if asJSON {
		note += fmt.Sprintf("; these bytes do not hash to %s", hash)
	}
	fmt.Fprintf(c.ErrOrStderr(), "%s; --show-sensitive prints them as stored\n", note)
	return shown, nil
}

// resolveRef finds the stored spec that ref names and returns its hash and
// canonical bytes.
func resolveRef(c *cobra.Command, st api.Backend, ref string) (string, []byte, error) {
	ctx := c.Context()
	job, hash, hasHash := strings.Cut(ref, "@")
	if !hasHash && (strings.HasPrefix(ref, "sha256:") || isHex(ref)) {
		job, hash, hasHash = "", ref, true
	}
	if !hasHash {
		ns, name, err := splitJob(job)
		if err != nil {
			return "", nil, err
		}
		js, err := st.Job(ctx, ns, name)
		if errors.Is(err, state.ErrNotFound) {
			return "", nil, fmt.Errorf("job %s/%s was never applied", ns, name)
		}
		if err != nil {
			return "", nil, err
		}
		spec, err := st.Spec(ctx, js.Hash)
		return js.Hash, spec, err
	}
	full, err := st.ResolveSpec(ctx, hash)
	if err != nil {
		return "", nil, err
	}
	if job != "" {
		ns, name, err := splitJob(job)
		if err != nil {
			return "", nil, err
		}
		versions, err := st.History(ctx, ns, name)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return "", nil, err
		}
		found := false
		for _, v := range versions {
			found = found || v.Hash == full
		}
		if !found {
			return "", nil, fmt.Errorf("%s is not a version of %s/%s (see 'muster history %s/%s')", full, ns, name, ns, name)
		}
	}
	spec, err := st.Spec(ctx, full)
	return full, spec, err
}

func isHex(s string) bool {
	if len(s) < 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// labelString lists m as key=value pairs sorted by key (a node's labels,
// an execution's host ports), or "-" when it is empty.
func labelString[V any](m map[string]V) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprint(k, "=", m[k]))
	}
	return orDash(strings.Join(parts, ","))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

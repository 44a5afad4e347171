package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/importer"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/emit"
)

func newImport() *cobra.Command {
	var from, name string
	var out outputFlag
	c := &cobra.Command{
		Use:   "import --from bacalhau|expanso|parcel FILE|-",
		Short: "Translate a Bacalhau, Expanso or Parcel job into a muster job",
		Long: `Import reads a job of one of the systems muster was born from and prints
the muster job it is, with the schema modeline, as YAML or, with -o, as
JSON, HCL or CUE. The job validates: every format hashes the same.

  --from bacalhau   a v1 job (Name, Type, Count, Constraints, Tasks[0] with a
                    docker or wasm Engine), the orchestrator API's answer
                    {"Job": ...}, or the legacy form (APIVersion, Spec)
  --from expanso    a types.Job {id, spec}, or its spec alone: name, type,
                    labels, meta, selector, rollout (or deployment) with its
                    health_check, timeouts in seconds, and the task in config
  --from parcel     a JobSpec: name, image, cmd, env, cpus, memory,
                    inputDocuments (under /parcel/data/in) and
                    outputDocuments (under /parcel/data/out)

FILE is YAML or JSON; - reads standard input. Every field without a muster
meaning is dropped with a warning on standard error that names it and says
why. A field whose loss would change what the job does (a value read from
the node's environment, a GPU, a numeric constraint) and an engine muster
does not have are errors: nothing is printed and the exit status is 1.
docs/import.md maps every field.`,
		Example: `  muster import --from bacalhau job.yaml > job.muster.yaml
  muster import --from expanso -o hcl job.json
  bacalhau job describe j-1234 --output json | muster import --from bacalhau --name nightly -
  muster import --from parcel job.json | muster plan --format yaml -`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			sys, err := systemOf(from)
			if err != nil {
				return err
			}
			src, err := readSource(c, args[0])
			if err != nil {
				return err
			}
			res := importer.Import(sys, args[0], src, importer.Options{Name: name})
			for _, d := range res.Diags {
				writeText(c.ErrOrStderr(), d, args[0], src)
			}
			if res.Diags.HasErrors() || len(res.Jobs) == 0 {
				return exitCode(exitError)
			}
			trees := make([]*lang.Value, len(res.Jobs))
			for i, j := range res.Jobs {
				trees[i] = j.Tree
			}
			text, err := emit.Write(out.value, trees, emit.Options{Comment: importer.Header(sys, args[0])})
			if err != nil {
				return err
			}
			_, err = c.OutOrStdout().Write(text)
			return err
		},
	}
	c.Flags().StringVar(&from, "from", "", "the system the job comes from: "+joinOr(systemNames()))
	c.Flags().StringVar(&name, "name", "", "name the job NAME, whatever the source says (a legacy Bacalhau job has no name)")
	_ = c.MarkFlagRequired("from")
	_ = c.RegisterFlagCompletionFunc("from", cobra.FixedCompletions(systemNames(), cobra.ShellCompDirectiveNoFileComp))
	out.register(c, emit.Formats...)
	return c
}

// systemNames lists the systems import reads.
func systemNames() []string {
	names := make([]string, len(importer.Systems))
	for i, s := range importer.Systems {
		names[i] = string(s)
	}
	return names
}

// systemOf reads --from.
func systemOf(from string) (importer.System, error) {
	for _, s := range importer.Systems {
		if strings.EqualFold(from, string(s)) {
			return s, nil
		}
	}
	return "", fmt.Errorf("--from %q: muster imports jobs of %s", from, joinOr(systemNames()))
}

// readSource reads the file path, or standard input for "-", up to the
// size of a job file.
func readSource(c *cobra.Command, path string) ([]byte, error) {
	if path != "-" {
		b, err := compiler.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		return b, nil
	}
	b, err := io.ReadAll(io.LimitReader(c.InOrStdin(), compiler.MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %v", err)
	}
	return b, nil
}

package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/schema"
)

func newSchema() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "schema",
		Short: "Print the job JSON Schema or the CUE #Job definition",
		Long: `Schema prints the published JSON Schema of a job (draft 2020-12), for editors
and CI, or the CUE #Job definition that CUE job files are unified with.

Point an editor at the schema with a modeline on the first line of a YAML job:

  # yaml-language-server: $schema=https://muster.dev/schema/job/v1.json`,
		Example: `  muster schema > muster.schema.json
  muster schema --format cue`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			w := c.OutOrStdout()
			switch format {
			case "jsonschema", "json":
				_, err := w.Write(schema.JSONSchema())
				return err
			case "cue":
				s := schema.CUEDefinition
				if !strings.HasSuffix(s, "\n") {
					s += "\n"
				}
				_, err := fmt.Fprint(w, s)
				return err
			}
			return fmt.Errorf("--format %q: use jsonschema or cue", format)
		},
	}
	c.Flags().StringVar(&format, "format", "jsonschema", "what to print: jsonschema or cue")
	return c
}

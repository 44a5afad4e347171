package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/state"
)

func newDoc() *cobra.Command {
	c := &cobra.Command{
		Use:   "doc",
		Short: "Store and read content-addressed documents",
		Long: `Documents are files kept in the control plane's document store under the
sha256 of their content. Jobs read them as inputs (source: sha256:<hex>) and
wasm modules (image: sha256:<hex>); every output file an execution leaves
becomes one.`,
	}
	var sf stateFlags
	put := &cobra.Command{
		Use:     "put FILE",
		Short:   "Store a file as a document and print its hash",
		Example: "  muster doc put data.csv\n  echo hi | muster doc put -",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var r io.Reader = c.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("%s: %v", args[0], errText(err))
				}
				defer f.Close()
				r = f
			}
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			hash, size, err := st.PutDocument(ctx, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s\n", hash)
			fmt.Fprintf(c.ErrOrStderr(), "stored %d bytes\n", size)
			return nil
		},
	}
	get := &cobra.Command{
		Use:     "get HASH",
		Short:   "Print a document",
		Example: "  muster doc get sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae > out.csv",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			hash := args[0]
			if !strings.HasPrefix(hash, "sha256:") {
				hash = "sha256:" + hash
			}
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			r, err := st.Document(ctx, hash)
			if errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("no document %s", hash)
			}
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(c.OutOrStdout(), r)
			return err
		},
	}
	for _, sub := range []*cobra.Command{put, get} {
		sf.register(sub)
	}
	c.AddCommand(put, get)
	return c
}

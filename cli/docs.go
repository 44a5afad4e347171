package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

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
	var putFlags, getFlags stateFlags
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
			st, err := putFlags.open(ctx)
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
		Use:   "get HASH",
		Short: "Print a document",
		Long: `Get prints the document stored under HASH: sha256:HEX or HEX, where HEX may
be a unique prefix of 12 or more hex digits.`,
		Example: "  muster doc get sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae > out.csv\n  muster doc get 2c26b46b68ff",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx := c.Context()
			st, err := getFlags.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			hash, err := st.ResolveDocument(ctx, args[0])
			if errors.Is(err, state.ErrNotFound) {
				if st.empty {
					return fmt.Errorf("no document %s: nothing is stored in %s yet", args[0], getFlags.dir)
				}
				return fmt.Errorf("no document %s is stored", args[0])
			}
			if err != nil {
				return err
			}
			r, err := st.Document(ctx, hash)
			if err != nil {
				return err
			}
			defer r.Close()
			_, err = io.Copy(c.OutOrStdout(), r)
			return err
		},
	}
	putFlags.register(put)
	getFlags.registerRead(get)
	c.AddCommand(put, get)
	return c
}

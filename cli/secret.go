package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// useSecretKey gives st the secret key of the control plane: that of
// MUSTER_SECRET_KEY, else the key file of the state directory dir (made
// on first use). A store on an external NATS server (external) takes the
// key only from MUSTER_SECRET_KEY, which every control plane sharing it
// must be given alike; without it the store refuses secrets.
func useSecretKey(st *state.Store, dir string, external bool) error {
	var key []byte
	var err error
	if external {
		var ok bool
		if key, ok, err = state.SecretKeyFromEnv(); !ok || err != nil {
			return err
		}
	} else if key, err = state.LoadSecretKey(dir); err != nil {
		return err
	}
	return st.SetSecretKey(key)
}

// newSecret is `muster secret`: the secrets of a control plane.
func newSecret() *cobra.Command {
	c := &cobra.Command{
		Use:   "secret",
		Short: "Store, list and remove secrets",
		Long: `A spec refers to a secret as secret:<namespace>/<name>, as a task.env value or a
task.inputs source; it never holds the value. The control plane keeps every
value encrypted (AES-256-GCM) under its key: the file secret.key of its state
directory (mode 0600, made on first use) or MUSTER_SECRET_KEY (base64 of 32
bytes), which control planes sharing a NATS store must all be given. It hands
a value only to the agent running an execution of the secret's namespace that
refers to it. No command prints a value back.`,
		Example: `  muster secret put shop/db_password ./password.txt
  printf %s "$TOKEN" | muster secret put shop/api_token
  muster secret list shop
  muster secret rm shop/db_password`,
	}
	c.AddCommand(newSecretPut(), newSecretList(), newSecretRm())
	return c
}

// splitSecret parses NS/NAME.
func splitSecret(arg string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(arg, "/")
	if !ok {
		return "", "", fmt.Errorf("%q: want a secret as NAMESPACE/NAME", arg)
	}
	if err := state.CheckSecret(ns, name); err != nil {
		return "", "", err
	}
	return ns, name, nil
}

// openSecrets opens the control plane of sf and returns its secret store;
// nil with an empty state directory that a read does not create.
func openSecrets(ctx context.Context, sf *stateFlags) (api.SecretStore, *plane, error) {
	p, err := sf.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	ss, ok := p.Backend.(api.SecretStore)
	if !ok && !p.empty {
		p.Close()
		return nil, nil, fmt.Errorf("this control plane stores no secrets")
	}
	return ss, p, nil
}

func newSecretPut() *cobra.Command {
	var sf stateFlags
	c := &cobra.Command{
		Use:   "put NAMESPACE/NAME [FILE|-]",
		Short: "Store a secret's value, read from FILE or standard input",
		Long: `Put stores the bytes of FILE (standard input when FILE is - or absent) as the
secret NAMESPACE/NAME, replacing any value it had; at most 64 KiB. The value is
never printed. Executions that start from now on get the new value.`,
		Example: "  muster secret put shop/db_password ./password.txt\n  muster secret put shop/db_password - < password.txt",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(c *cobra.Command, args []string) error {
			ns, name, err := splitSecret(args[0])
			if err != nil {
				return err
			}
			value, err := readSecretValue(c, args[1:])
			if err != nil {
				return err
			}
			ss, p, err := openSecrets(c.Context(), &sf)
			if err != nil {
				return err
			}
			defer p.Close()
			if err := ss.PutSecret(c.Context(), ns, name, value); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "secret %s/%s stored (%d bytes)\n", ns, name, len(value))
			return nil
		},
	}
	sf.register(c)
	return c
}

// readSecretValue reads the value of `secret put`: the file of args, or
// standard input when there is none or it is "-".
func readSecretValue(c *cobra.Command, args []string) ([]byte, error) {
	var r io.Reader = c.InOrStdin()
	if len(args) == 1 && args[0] != "-" {
		f, err := os.Open(args[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	value, err := io.ReadAll(io.LimitReader(r, state.MaxSecretSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the secret's value: %w", err)
	}
	if len(value) > state.MaxSecretSize {
		return nil, fmt.Errorf("the secret's value is over %d bytes", state.MaxSecretSize)
	}
	return value, nil
}

func newSecretList() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	c := &cobra.Command{
		Use:   "list [NAMESPACE]",
		Short: "List secrets: names, sizes and when they changed, never values",
		Long: `List shows the secrets of NAMESPACE, or of every namespace the token covers
when none is given.`,
		Example: "  muster secret list shop\n  muster secret list -o json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ns := state.AllNamespaces
			if len(args) == 1 {
				if ns = args[0]; state.CheckNamespace(ns) != nil {
					return state.CheckNamespace(ns)
				}
			}
			ss, p, err := openSecrets(c.Context(), &sf)
			if err != nil {
				return err
			}
			defer p.Close()
			list := []state.SecretInfo{}
			if ss != nil {
				if list, err = ss.Secrets(c.Context(), ns); err != nil {
					return err
				}
			}
			return writeSecrets(c.OutOrStdout(), list, out.value == "json")
		},
	}
	sf.registerRead(c)
	out.register(c, "text", "json")
	return c
}

// writeSecrets prints list as a table or as JSON.
func writeSecrets(w io.Writer, list []state.SecretInfo, asJSON bool) error {
	if asJSON {
		if list == nil {
			list = []state.SecretInfo{}
		}
		return writeJSON(w, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(w, "No secrets.")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECRET\tSIZE\tUPDATED\tREFERENCE")
	for _, s := range list {
		ref := schema.SecretRefPrefix + s.Namespace + "/" + s.Name
		fmt.Fprintf(tw, "%s/%s\t%d\t%s\t%s\n", s.Namespace, s.Name, s.Size, s.Updated.Format(time.RFC3339), ref)
	}
	return tw.Flush()
}

func newSecretRm() *cobra.Command {
	var sf stateFlags
	c := &cobra.Command{
		Use:   "rm NAMESPACE/NAME",
		Short: "Remove a secret",
		Long: `Rm deletes the secret NAMESPACE/NAME. Executions that refer to it and start
from now on wait, queued, until it is stored again.`,
		Example: "  muster secret rm shop/db_password",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ns, name, err := splitSecret(args[0])
			if err != nil {
				return err
			}
			ss, p, err := openSecrets(c.Context(), &sf)
			if err != nil {
				return err
			}
			defer p.Close()
			if ss == nil {
				return fmt.Errorf("secret %s/%s %w", ns, name, state.ErrNotFound)
			}
			if err := ss.DeleteSecret(c.Context(), ns, name); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "secret %s/%s removed\n", ns, name)
			return nil
		},
	}
	sf.register(c)
	return c
}

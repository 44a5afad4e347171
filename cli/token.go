package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/state"
)

// newToken is `muster token`: the scoped API tokens of a control plane.
func newToken() *cobra.Command {
	c := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke scoped API tokens",
		Long: `A control plane started with MUSTER_TOKEN requires a bearer token on every
API request. MUSTER_TOKEN itself is the bootstrap token: an admin of every
namespace. Scoped tokens have a namespace (or "*" for every one) and a role:

  read   read jobs, versions, executions, logs, events, specs, documents, nodes
  write  also apply, roll out, promote, roll back and stop jobs
  admin  also manage tokens (of its namespace) and register nodes (with "*")

Node agents get tokens of their own: a join token (namespace "*", role join)
does nothing but let an agent join, once per node, for node credentials. An
agent started with it as MUSTER_TOKEN joins, keeps its node's credentials
(role node) in its --dir, mode 0600, and connects to NATS with them: they
allow only what a node does (see docs/cluster.md). An admin may also make a
node's credentials directly (--role node --node ID) and give them to its
agent as MUSTER_TOKEN. Revoking a node's token
(listed with its node) closes that node's connections and shuts it out.

The control plane stores only a hash of each token's secret: the token is
printed once, when it is created. Give it to a command as MUSTER_TOKEN.
Managing tokens needs an admin token.`,
		Example: `  muster token create --namespace team-a --role write --ttl 720h --description ci
  muster token create --namespace '*' --role join --ttl 1h --description "rack 4"
  muster token create --namespace '*' --role node --node edge-1
  muster token list
  muster token revoke 3f2a9c0d41b7e865`,
	}
	c.AddCommand(newTokenCreate(), newTokenList(), newTokenRevoke())
	return c
}

// openTokens opens the control plane of sf and returns its token store.
func openTokens(ctx context.Context, sf *stateFlags) (api.TokenStore, *plane, error) {
	p, err := sf.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	ts, ok := p.Backend.(api.TokenStore)
	if !ok && !p.empty {
		p.Close()
		return nil, nil, fmt.Errorf("this control plane stores no tokens")
	}
	return ts, p, nil
}

func newTokenCreate() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	var spec state.TokenSpec
	var role string
	c := &cobra.Command{
		Use:   "create --namespace NS --role read|write|admin|join|node [--node ID]",
		Short: "Create a scoped API token and print it once",
		Long: `Create stores a new token for --namespace ("*": every namespace) with --role
and prints it on standard output. It is not stored and cannot be shown again:
keep it, or revoke it and create another. --ttl makes it expire.`,
		Example: `  muster token create --namespace team-a --role read
  muster token create --namespace '*' --role admin --ttl 24h -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			spec.Role = state.Role(role)
			if err := spec.Check(); err != nil {
				return err
			}
			ts, p, err := openTokens(c.Context(), &sf)
			if err != nil {
				return err
			}
			defer p.Close()
			tok, secret, err := ts.CreateToken(c.Context(), spec)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				return writeJSON(w, struct {
					state.Token
					Secret string `json:"token"`
				}{tok, secret})
			}
			fmt.Fprintln(w, secret)
			role := string(tok.Role)
			if tok.Node != "" {
				role += " of node " + tok.Node
			}
			fmt.Fprintf(c.ErrOrStderr(), "token %s: role %s in namespace %s%s; it is shown only now\n",
				tok.ID, role, tok.Namespace, expiry(tok))
			return nil
		},
	}
	sf.register(c)
	out.register(c, "text", "json")
	f := c.Flags()
	f.StringVar(&spec.Namespace, "namespace", "", `namespace the token acts in ("*": every namespace)`)
	f.StringVar(&role, "role", "", "what the token may do: read, write, admin; join or node (node agents)")
	f.DurationVar(&spec.TTL, "ttl", 0, "how long the token lasts (default: until revoked)")
	f.StringVar(&spec.Description, "description", "", "whom or what the token is for")
	f.StringVar(&spec.Node, "node", "", "with --role node: the node whose credentials the token is")
	_ = c.MarkFlagRequired("namespace")
	_ = c.MarkFlagRequired("role")
	_ = c.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"read", "write", "admin", "join", "node"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// expiry describes when tok expires, for a message.
func expiry(tok state.Token) string {
	if tok.Expires.IsZero() {
		return ""
	}
	return ", expires " + tok.Expires.Format(time.RFC3339)
}

func newTokenList() *cobra.Command {
	var sf stateFlags
	var out outputFlag
	c := &cobra.Command{
		Use:   "list",
		Short: "List the API tokens, never their secrets",
		Long: `List shows the stored tokens: id, namespace, role, when each was created and
expires, and its description. An admin token of one namespace sees that
namespace's tokens.`,
		Example: "  muster token list\n  muster token list -o json",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ts, p, err := openTokens(c.Context(), &sf)
			if err != nil {
				return err
			}
			defer p.Close()
			toks := []state.Token{}
			if ts != nil {
				if toks, err = ts.Tokens(c.Context()); err != nil {
					return err
				}
			}
			return writeTokens(c, toks, out.value == "json")
		},
	}
	sf.registerRead(c)
	out.register(c, "text", "json")
	return c
}

// writeTokens prints toks as a table or as JSON.
func writeTokens(c *cobra.Command, toks []state.Token, asJSON bool) error {
	w := c.OutOrStdout()
	if asJSON {
		if toks == nil {
			toks = []state.Token{}
		}
		return writeJSON(w, toks)
	}
	if len(toks) == 0 {
		fmt.Fprintln(w, "No tokens.")
		return nil
	}
	now := time.Now()
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAMESPACE\tROLE\tCREATED\tEXPIRES\tDESCRIPTION")
	for _, t := range toks {
		expires := "never"
		switch {
		case t.Expired(now):
			expires = "expired " + t.Expires.Format(time.RFC3339)
		case !t.Expires.IsZero():
			expires = t.Expires.Format(time.RFC3339)
		}
		role := string(t.Role)
		if t.Node != "" {
			role += ":" + t.Node
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Namespace, role, t.Created.Format(time.RFC3339), expires, orDash(t.Description))
	}
	return tw.Flush()
}

func newTokenRevoke() *cobra.Command {
	var sf stateFlags
	c := &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke an API token: it is refused from now on",
		Long:    `Revoke deletes the token ID (as 'muster token list' shows it). Requests that carry it are refused at once.`,
		Example: "  muster token revoke 3f2a9c0d41b7e865",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := state.CheckTokenID(args[0]); err != nil {
				return err
			}
			ts, p, err := openTokens(c.Context(), &sf)
			if err != nil {
				return err
			}
			defer p.Close()
			if ts == nil {
				return fmt.Errorf("token %s %w", args[0], state.ErrNotFound)
			}
			if err := ts.RevokeToken(c.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "token %s revoked\n", args[0])
			return nil
		},
	}
	sf.register(c)
	return c
}

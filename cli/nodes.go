package cli

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/state"
)

func newNodes() *cobra.Command {
	var sf stateFlags
	var nf nodeFlags
	var lf listFlags
	var out outputFlag
	c := &cobra.Command{
		Use:   "nodes",
		Short: "List the nodes, their labels and their room",
		Long: `Nodes lists the nodes known to the control plane, with their status, what
they offer their executions (cpus and memory: detected on the node, or given
with --cpus and --memory to 'muster agent' and 'muster dev'), how much of it
the executions placed there and not yet ended use, what is free, and their
labels. A node that advertises no capacity (a record from before nodes did,
or the local node of a one-shot command) is unlimited: placement counts
nothing there.

Without a running control plane, the local node registers itself
first (os, arch and hostname labels, plus --label and --node-config), unless
the state directory does not exist yet: nodes creates nothing. A node whose
agent stopped answering shows as down. With --nodes it reads an inventory
file instead, which is a quick way to check one.

-l keeps the nodes whose labels match a selector (Kubernetes syntax, as
jobs' selector.match_expressions: zone=a,gpu,!spot,region in (eu,us)).

-o json prints each node as stored ({id, labels, last_seen, status,
capacity: {cpus, memory_mb}}) with "used" ({cpus, memory_mb}, live nodes
only) and "free" (of what the node advertises).`,
		Example: `  muster nodes
  muster nodes -o json | jq '.[] | {id, free}'
  muster nodes -l 'zone in (a,b),!spot'
  muster nodes --nodes inventory.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			list, used, note, err := listNodes(c, &sf, &nf)
			if err != nil {
				return err
			}
			if list, err = lf.nodes(list); err != nil {
				return err
			}
			views := make([]api.NodeView, len(list))
			for i, n := range list {
				views[i] = api.ViewNode(n, used)
			}
			w := c.OutOrStdout()
			if out.value == "json" {
				return writeJSON(w, views)
			}
			if len(list) == 0 {
				if note == "" {
					note = "No nodes."
				}
				fmt.Fprintln(w, note)
				return nil
			}
			return writeNodes(w, views)
		},
	}
	sf.registerRead(c)
	nf.register(c, true)
	lf.register(c, false)
	out.register(c, "text", "json")
	return c
}

// listNodes reads the nodes of the inventory file, or of the control
// plane, where the local node registers itself first when this process is
// the control plane, and what the executions placed on them hold (nil for
// an inventory): as the control plane serving the API reads it, or read
// here. note says why the list is empty when nothing is stored yet.
func listNodes(c *cobra.Command, sf *stateFlags, nf *nodeFlags) ([]state.Node, func(string) plan.Resources, string, error) {
	if nf.inventory != "" {
		list, err := state.LoadInventory(nf.inventory)
		return list, nil, "", err
	}
	ctx := c.Context()
	st, err := sf.open(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	defer st.Close()
	if st.empty {
		return nil, nil, fmt.Sprintf("No nodes: nothing is stored in %s yet (the local node registers itself on the first plan or apply).", sf.dir), nil
	}
	if client, ok := st.Backend.(*api.Client); ok {
		// The control plane reads what the nodes hold over every
		// namespace, which a token of one may not.
		views, err := client.NodeViews(ctx)
		return servedNodes(views), servedUsage(views), "", err
	}
	if st.store != nil {
		// This process is the control plane: its node is the local one.
		if err := nf.registerLocal(ctx, st); err != nil {
			return nil, nil, "", err
		}
	}
	list, err := st.Nodes(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	load, err := apply.NodeLoad(ctx, st, nil)
	if err != nil {
		return nil, nil, "", fmt.Errorf("reading what the nodes hold: %w", err)
	}
	return list, load.Total, "", nil
}

// servedNodes are the nodes of the API's views.
func servedNodes(views []api.NodeView) []state.Node {
	list := make([]state.Node, len(views))
	for i, v := range views {
		list[i] = v.Node
	}
	return list
}

// servedUsage is what the API's views say the nodes' executions hold.
func servedUsage(views []api.NodeView) func(string) plan.Resources {
	used := make(map[string]plan.Resources, len(views))
	for _, v := range views {
		if v.Used != nil {
			used[v.ID] = plan.Resources{MilliCPUs: plan.MilliCPUs(v.Used.CPUs), MemoryMB: v.Used.MemoryMB}
		}
	}
	return func(id string) plan.Resources { return used[id] }
}

// writeNodes prints the nodes as a table: cpus and memory say what each
// offers, uses and has free.
func writeNodes(w io.Writer, views []api.NodeView) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tCPUS\tMEMORY\tLABELS")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, orDash(v.Status), v.CPUsText(), v.MemoryText(), labelString(v.Labels))
	}
	return tw.Flush()
}

package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

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
			list, load, note, err := listNodes(c, &sf, &nf)
			if err != nil {
				return err
			}
			if list, err = lf.nodes(list); err != nil {
				return err
			}
			views := make([]nodeView, len(list))
			for i, n := range list {
				views[i] = viewNode(n, load)
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
// an inventory). note says why the list is empty when nothing is stored
// yet.
func listNodes(c *cobra.Command, sf *stateFlags, nf *nodeFlags) ([]state.Node, apply.Load, string, error) {
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
	if st.store != nil {
		// This process is the control plane: its node is the local one. A
		// running control plane has its own.
		if err := nf.registerLocal(ctx, st); err != nil {
			return nil, nil, "", err
		}
	}
	list, err := st.Nodes(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	load, err := nodesLoad(ctx, st)
	return list, load, "", err
}

// nodesLoad reads what the executions of every job hold on their nodes.
func nodesLoad(ctx context.Context, st *plane) (apply.Load, error) {
	load, err := apply.NodeLoad(ctx, st, nil)
	if err != nil {
		return nil, fmt.Errorf("reading what the nodes hold: %w", err)
	}
	return load, nil
}

// nodeView is a node as 'muster nodes' shows it: as stored, with what the
// executions placed there hold (Used; nil for a node of an inventory) and
// what is free of what it advertises (Free; nil when it advertises
// nothing, a field left out for what it does not advertise).
type nodeView struct {
	state.Node
	Used *usedView `json:"used,omitempty"`
	Free *freeView `json:"free,omitempty"`
}

type usedView struct {
	CPUs     float64 `json:"cpus"`
	MemoryMB int64   `json:"memory_mb"`
}

type freeView struct {
	CPUs     *float64 `json:"cpus,omitempty"`
	MemoryMB *int64   `json:"memory_mb,omitempty"`
}

// viewNode adds to n what load says it holds (load nil: not known).
func viewNode(n state.Node, load apply.Load) nodeView {
	v := nodeView{Node: n}
	var used plan.Resources
	if load != nil {
		used = load.Total(n.ID)
		v.Used = &usedView{CPUs: cores(used.MilliCPUs), MemoryMB: used.MemoryMB}
	}
	if c := n.Capacity; !c.Unlimited() {
		v.Free = &freeView{}
		if c.CPUs > 0 {
			free := cores(plan.MilliCPUs(c.CPUs) - used.MilliCPUs)
			v.Free.CPUs = &free
		}
		if c.MemoryMB > 0 {
			free := c.MemoryMB - used.MemoryMB
			v.Free.MemoryMB = &free
		}
	}
	return v
}

// cores converts millicores to cores.
func cores(milli int64) float64 { return float64(milli) / 1000 }

// writeNodes prints the nodes as a table: cpus and memory say what each
// offers, uses and has free.
func writeNodes(w io.Writer, views []nodeView) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tCPUS\tMEMORY\tLABELS")
	for _, v := range views {
		var capCPUs, capMem float64
		var usedCPUs, usedMem, freeCPUs, freeMem *float64
		if c := v.Capacity; c != nil {
			capCPUs, capMem = c.CPUs, float64(c.MemoryMB)
		}
		if v.Used != nil {
			usedCPUs, usedMem = &v.Used.CPUs, ptr(float64(v.Used.MemoryMB))
		}
		if v.Free != nil {
			freeCPUs = v.Free.CPUs
			if v.Free.MemoryMB != nil {
				freeMem = ptr(float64(*v.Free.MemoryMB))
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.ID, orDash(v.Status),
			roomText(capCPUs, usedCPUs, freeCPUs, formatCores), roomText(capMem, usedMem, freeMem, formatMB), labelString(v.Labels))
	}
	return tw.Flush()
}

func ptr[T any](v T) *T { return &v }

// roomText says what a node offers of one resource, what is used and
// what is free: "2 (1 used, 1 free)", "unlimited (1 used)", "2" when the
// use is not known.
func roomText(total float64, used, free *float64, format func(float64) string) string {
	s := "unlimited"
	if total > 0 {
		s = format(total)
	}
	switch {
	case used == nil:
		return s
	case free == nil:
		return fmt.Sprintf("%s (%s used)", s, format(*used))
	case *free < 0:
		return fmt.Sprintf("%s (%s used, over by %s)", s, format(*used), format(-*free))
	}
	return fmt.Sprintf("%s (%s used, %s free)", s, format(*used), format(*free))
}

// formatCores prints a number of cores: 2, 0.5, 1.25.
func formatCores(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// formatMB prints MiB for people: 256M, 2G, 15.5G.
func formatMB(mb float64) string {
	switch {
	case mb < 1024:
		return strconv.FormatFloat(mb, 'f', -1, 64) + "M"
	case int64(mb)%1024 == 0:
		return strconv.FormatFloat(mb/1024, 'f', -1, 64) + "G"
	}
	return strconv.FormatFloat(mb/1024, 'f', 1, 64) + "G"
}

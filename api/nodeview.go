package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/state"
)

// NodeView is a node as GET /v1/nodes serves it: as stored, with what the
// executions placed there and not yet ended hold (Used; nil where that is
// not known) and what is free of what it advertises (Free; nil when it
// advertises nothing, a field left out for what it does not advertise).
type NodeView struct {
	state.Node
	Used *NodeUsed `json:"used,omitempty"`
	Free *NodeFree `json:"free,omitempty"`
}

// NodeUsed is what the executions on a node hold: cores and MiB.
type NodeUsed struct {
	CPUs     float64 `json:"cpus"`
	MemoryMB int64   `json:"memory_mb"`
}

// NodeFree is what is free of what a node advertises; a negative value
// says by how much the node is over.
type NodeFree struct {
	CPUs     *float64 `json:"cpus,omitempty"`
	MemoryMB *int64   `json:"memory_mb,omitempty"`
}

// ViewNode adds to n what used says its executions hold (used nil: not
// known).
func ViewNode(n state.Node, used func(node string) plan.Resources) NodeView {
	v := NodeView{Node: n}
	var u plan.Resources
	if used != nil {
		u = used(n.ID)
		v.Used = &NodeUsed{CPUs: cores(u.MilliCPUs), MemoryMB: u.MemoryMB}
	}
	if c := n.Capacity; !c.Unlimited() {
		v.Free = &NodeFree{}
		if c.CPUs > 0 {
			free := cores(plan.MilliCPUs(c.CPUs) - u.MilliCPUs)
			v.Free.CPUs = &free
		}
		if c.MemoryMB > 0 {
			free := c.MemoryMB - u.MemoryMB
			v.Free.MemoryMB = &free
		}
	}
	return v
}

// cores converts millicores to cores.
func cores(milli int64) float64 { return float64(milli) / 1000 }

// NodeViews returns every node with what its executions hold, where the
// server reads that (WithNodeUsage).
func (c *Client) NodeViews(ctx context.Context) ([]NodeView, error) {
	var nodes []NodeView
	err := c.call(ctx, http.MethodGet, "/nodes", url.Values{"usage": {"true"}}, nil, &nodes)
	return nodes, err
}

// nodes serves GET /v1/nodes. What the executions hold is read, over
// every job, only when asked for (?usage=true): placement, which lists
// the nodes for every plan, reads it its own way.
func (s *server) nodes(w http.ResponseWriter, r *http.Request) error {
	nodes, err := s.b.Nodes(r.Context())
	if err != nil {
		return err
	}
	var used func(string) plan.Resources
	if s.nodeUsage != nil && r.URL.Query().Get("usage") == "true" {
		if used, err = s.nodeUsage(r.Context()); err != nil {
			return err
		}
	}
	views := make([]NodeView, len(nodes))
	for i, n := range nodes {
		views[i] = ViewNode(n, used)
	}
	writeJSON(w, http.StatusOK, views)
	return nil
}

// CPUsText says what the node offers of cores, what its executions use
// and what is free: "2 (1 used, 1 free)", "unlimited (1 used)", or "2"
// where the use is not known.
func (v NodeView) CPUsText() string {
	var total float64
	var used, free *float64
	if v.Capacity != nil {
		total = v.Capacity.CPUs
	}
	if v.Used != nil {
		used = &v.Used.CPUs
	}
	if v.Free != nil {
		free = v.Free.CPUs
	}
	return roomText(total, used, free, formatCores)
}

// MemoryText says the same of memory: "8G (512M used, 7.5G free)".
func (v NodeView) MemoryText() string {
	var total float64
	var used, free *float64
	if v.Capacity != nil {
		total = float64(v.Capacity.MemoryMB)
	}
	if v.Used != nil {
		used = ptr(float64(v.Used.MemoryMB))
	}
	if v.Free != nil && v.Free.MemoryMB != nil {
		free = ptr(float64(*v.Free.MemoryMB))
	}
	return roomText(total, used, free, formatMB)
}

func ptr[T any](v T) *T { return &v }

// roomText says what a node offers of one resource (0: unlimited), what
// is used and what is free.
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

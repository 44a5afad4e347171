package api

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/state"
)

func TestViewNode(t *testing.T) {
	holds := func(milli, mb int64) func(string) plan.Resources {
		return func(string) plan.Resources { return plan.Resources{MilliCPUs: milli, MemoryMB: mb} }
	}
	for _, c := range []struct {
		name     string
		capacity *state.Capacity
		used     func(string) plan.Resources
		cpus     string
		memory   string
	}{
		{"use not known", &state.Capacity{CPUs: 2, MemoryMB: 8192}, nil, "2", "8G"},
		{"unlimited", nil, holds(1500, 512), "unlimited (1.5 used)", "unlimited (512M used)"},
		{"room left", &state.Capacity{CPUs: 2, MemoryMB: 8192}, holds(500, 512), "2 (0.5 used, 1.5 free)", "8G (512M used, 7.5G free)"},
		{"over", &state.Capacity{CPUs: 1, MemoryMB: 1024}, holds(1250, 1536), "1 (1.25 used, over by 0.25)", "1G (1.5G used, over by 512M)"},
		{"only cpus advertised", &state.Capacity{CPUs: 4}, holds(1000, 64), "4 (1 used, 3 free)", "unlimited (64M used)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := ViewNode(state.Node{ID: "n1", Capacity: c.capacity}, c.used)
			if got := v.CPUsText(); got != c.cpus {
				t.Errorf("cpus %q, want %q", got, c.cpus)
			}
			if got := v.MemoryText(); got != c.memory {
				t.Errorf("memory %q, want %q", got, c.memory)
			}
		})
	}
}

// TestNodesUsageOnlyWhenAsked: GET /v1/nodes reads what the executions
// hold only for ?usage=true (NodeViews), not for the plain listing every
// plan makes (Nodes).
func TestNodesUsageOnlyWhenAsked(t *testing.T) {
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var reads atomic.Int32
	usage := func(context.Context) (func(string) plan.Resources, error) {
		reads.Add(1)
		return func(string) plan.Resources { return plan.Resources{MilliCPUs: 500, MemoryMB: 64} }, nil
	}
	srv := httptest.NewServer(NewServer(st, newFakeControl(st), "", WithNodeUsage(usage)))
	defer srv.Close()
	c := NewClient(srv.URL, "")
	defer c.Close()
	ctx := context.Background()
	if _, err := c.PutNode(ctx, state.Node{ID: "n1", Capacity: &state.Capacity{CPUs: 2}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Nodes(ctx); err != nil || reads.Load() != 0 {
		t.Errorf("Nodes: %v; usage read %d times, want 0", err, reads.Load())
	}
	views, err := c.NodeViews(ctx)
	if err != nil || reads.Load() != 1 || len(views) != 1 || views[0].CPUsText() != "2 (0.5 used, 1.5 free)" {
		t.Errorf("NodeViews = %+v, %v; usage read %d times, want 1", views, err, reads.Load())
	}
}

package api

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/muster-dev/muster/apply"
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

// BenchmarkNodesRead lists 10 nodes over loopback HTTP as a plan does
// (Nodes) and with what 200 running executions of 20 jobs hold on them
// (NodeViews, read with apply.NodeLoad as the control planes do), in the
// same run: the price of ?usage=true.
func BenchmarkNodesRead(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	specs := &apply.SpecResources{}
	usage := func(ctx context.Context) (func(string) plan.Resources, error) {
		load, err := apply.NodeLoad(ctx, st, specs)
		return load.Total, err
	}
	srv := httptest.NewServer(NewServer(st, newFakeControl(st), "", WithNodeUsage(usage)))
	defer srv.Close()
	for n := range 10 {
		if _, err := st.PutNode(ctx, state.Node{ID: fmt.Sprintf("n%d", n), Capacity: &state.Capacity{CPUs: 8}}); err != nil {
			b.Fatal(err)
		}
	}
	for i, name := range storeJobs(b, st, 20) {
		for x := range 10 {
			e := state.Execution{ID: fmt.Sprintf("x%d-%d", i, x), JobID: "default/" + name, JobVersion: 1, NodeID: fmt.Sprintf("n%d", x),
				Status: state.ExecutionStatus{ComputeState: state.ComputeRunning}}
			if _, err := st.CreateExecution(ctx, e); err != nil {
				b.Fatal(err)
			}
		}
	}
	c := NewClient(srv.URL, "")
	defer c.Close()
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			if nodes, err := c.Nodes(ctx); err != nil || len(nodes) != 10 {
				b.Fatalf("%d nodes, %v", len(nodes), err)
			}
		}
	})
	b.Run("usage", func(b *testing.B) {
		for b.Loop() {
			if views, err := c.NodeViews(ctx); err != nil || len(views) != 10 || views[0].Used == nil || views[0].Used.CPUs == 0 {
				b.Fatalf("%+v, %v", views, err)
			}
		}
	})
}

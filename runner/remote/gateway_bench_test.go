package remote_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/state"
)

// BenchmarkRecordExecution measures what a node's agent pays to record an
// execution through the control planes' gateway against writing the
// executions bucket itself, as agents did before node credentials.
func BenchmarkRecordExecution(b *testing.B) {
	for _, how := range []string{"direct", "gateway"} {
		b.Run(how, func(b *testing.B) {
			c := newBenchCluster(b)
			ctx := context.Background()
			x, err := c.st.CreateExecution(ctx, state.Execution{ID: "bench-" + how, JobID: "default/bench", JobVersion: 1, NodeID: "n1"})
			if err != nil {
				b.Fatal(err)
			}
			var store runner.ExecutionStore = c.st
			if how == "gateway" {
				store = remote.Gateway{NC: c.st.Conn(), NodeID: "n1"}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				x.Status.Message = fmt.Sprint("step ", i)
				if x, err = store.UpdateExecution(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// newBenchCluster opens a store with a gateway, as newCluster does for
// tests.
func newBenchCluster(b *testing.B) *cluster {
	st, err := state.Open(context.Background(), b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	gw, err := remote.ServeGateway(st.Conn(), st)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { gw.Unsubscribe() })
	return &cluster{st: st}
}

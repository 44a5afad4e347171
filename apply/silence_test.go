package apply

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/state"
)

// TestSilenceCountsFromReconnect: a node whose last heartbeat is older
// than the node TTL is silent, unless the control plane's own connection
// to the store came back since: then its heartbeats could not be seen,
// and its silence counts from the reconnect.
func TestSilenceCountsFromReconnect(t *testing.T) {
	clk := clockwork.NewFakeClock()
	ttl := 10 * time.Second
	node := state.Node{ID: "a1", LastSeen: clk.Now().Add(-2 * ttl)}
	for _, c := range []struct {
		name        string
		reconnected time.Time
		want        bool // served: taken for alive
	}{
		{"never reconnected", time.Time{}, false},
		{"reconnected before the heartbeat", node.LastSeen.Add(-time.Second), false},
		{"reconnected within the TTL", clk.Now().Add(-time.Second), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctl := &Controller{Store: newFakeStore(), Runners: &Runners{}, Clock: clk, NodeTTL: ttl,
				Connect:     func(state.Node) Runner { return newHoldRunner(nil) },
				Reconnected: func() time.Time { return c.reconnected }}
			ctl.connected = map[string]bool{}
			ctl.noteNode(context.Background(), node)
			if got := ctl.Runners.Get("a1") != nil; got != c.want {
				t.Errorf("node served: %v, want %v", got, c.want)
			}
		})
	}
}

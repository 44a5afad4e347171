//go:build linux

package exec_test

import (
	"context"
	"testing"

	"github.com/muster-dev/muster/schema"
)

// BenchmarkProbe probes a real exec service (the test binary serving HTTP
// on its host port) through the agent, once per op: http GETs /health, tcp
// connects, exec runs `true` in the task's environment. The time per op is
// a probe's latency on this node.
func BenchmarkProbe(b *testing.B) {
	n := newNode(b)
	j := serveJob(b)
	startService(b, n, context.Background(), "bench", j, "serving")
	for _, c := range []struct {
		name string
		p    *schema.Probe
	}{
		{"http", httpProbe("/health")},
		{"tcp", &schema.Probe{TCP: &schema.TCPProbe{Port: "http"}}},
		{"exec", execProbe(0, "true")},
	} {
		b.Run(c.name, func(b *testing.B) {
			c.p.Timeout = schema.DefaultProbeTimeout
			j.Rollout.HealthCheck.Probe = c.p
			b.ReportAllocs()
			for b.Loop() {
				res, err := n.a.Probe(context.Background(), "bench")
				if err != nil || !res.OK {
					b.Fatalf("%+v %v", res, err)
				}
			}
		})
	}
}

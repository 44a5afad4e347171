package cli

import (
	"net"
	"strings"
	"testing"
)

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestClientsTakeSeveralAddresses gives commands and an agent a control
// plane address nothing answers at, then a live one: they use the live one.
// With no live address, the error names every address tried.
func TestClientsTakeSeveralAddresses(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	live := dev.waitFor(apiRE)
	dead := deadAddr(t)
	c.env = "MUSTER_ADDR=" + dead + "," + live

	file := c.write("svc.yaml", `name: svc
type: service
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	// A rollout is not safe to repeat, but the dead address was never
	// reached: it goes to the live one.
	c.ok("apply", "--auto-approve", file)
	if st := c.waitState("svc", "running"); st.Version != 1 {
		t.Fatalf("status through %s = %+v, want version 1", c.env, st)
	}
	if out := c.ok("status").stdout; !strings.Contains(out, "svc") {
		t.Fatalf("muster status through %s:\n%s", c.env, out)
	}

	cfg := c.write("b.yaml", "id: node-b\n")
	c.start(`node node-b joined the control plane at `+live, "agent", "--server", dead+","+live, "--node-config", cfg, "--dir", "agent-b")
	c.waitNodes(1, "node-b")

	dead2 := deadAddr(t)
	c.env = "MUSTER_ADDR=" + dead + "," + dead2
	r := c.run("status")
	if r.code == 0 || !strings.Contains(r.stderr, dead) || !strings.Contains(r.stderr, dead2) {
		t.Fatalf("status with no control plane answering: %s\nwant a failure naming %s and %s", r, dead, dead2)
	}
}

// TestReachableNATS checks the rewriting of the NATS URLs a control plane
// gives agents: each of a cluster's, and only those listening everywhere.
func TestReachableNATS(t *testing.T) {
	tests := []struct {
		urls, server, want string
	}{
		{"nats://0.0.0.0:4222", "10.0.0.5:4747", "nats://10.0.0.5:4222"},
		{"nats://127.0.0.1:4222", "10.0.0.5:4747", "nats://127.0.0.1:4222"},
		{"nats://[::]:4222", "http://h1:4747", "nats://h1:4222"},
		{"nats://a:4222,nats://b:4222, nats://c:4222", "h:1", "nats://a:4222,nats://b:4222,nats://c:4222"},
		{"nats://0.0.0.0:4222,nats://b:4223", "h1:4747", "nats://h1:4222,nats://b:4223"},
	}
	for _, tt := range tests {
		got, err := reachableNATS(tt.urls, tt.server)
		if err != nil || got != tt.want {
			t.Errorf("reachableNATS(%q, %q) = %q, %v; want %q", tt.urls, tt.server, got, err, tt.want)
		}
	}
	if _, err := reachableNATS(" ", "h:1"); err == nil {
		t.Error("reachableNATS of no URL: no error")
	}
}

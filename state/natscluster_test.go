package state

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/muster-dev/muster/internal/testport"
	"github.com/muster-dev/muster/internal/wait"
)

// natsCluster is a JetStream cluster of in-process nats-servers on
// loopback, each with its own store directory, shut down when the test
// ends.
type natsCluster struct {
	name    string
	servers []*server.Server
}

// startCluster starts n JetStream servers named n1..nN in the cluster
// "c1", every one routed to every other, and waits until JetStream has a
// meta leader and every server is current with it.
func startCluster(t *testing.T, n int) *natsCluster {
	t.Helper()
	c := &natsCluster{name: "c1"}
	ports := make([]int, n)
	var routes []string
	for i := range ports {
		ports[i] = testport.Free(t)
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(ports[i]))
	}
	for i, port := range ports {
		srv, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("n%d", i+1),
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   t.TempDir(),
			Cluster:    server.ClusterOpts{Name: c.name, Host: "127.0.0.1", Port: port},
			Routes:     server.RoutesFromStr(strings.Join(routes, ",")),
			NoLog:      true,
			NoSigs:     true,
		})
		if err != nil {
			t.Fatal(err)
		}
		srv.Start()
		c.servers = append(c.servers, srv)
		t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
		if !srv.ReadyForConnections(15 * time.Second) {
			t.Fatalf("nats-server n%d did not start", i+1)
		}
	}
	c.waitReady(t)
	return c
}

// waitReady waits until the running servers have a JetStream meta leader
// that counts every one of them, and every one is current with it.
func (c *natsCluster) waitReady(t *testing.T) {
	t.Helper()
	wait.Until(t, wait.Default, "a JetStream meta leader that counts every server, each current", func() bool {
		leader := false
		for _, s := range c.running() {
			if !s.JetStreamIsCurrent() {
				return false
			}
			// The leader places copies only on the peers it lists.
			leader = leader || s.JetStreamIsLeader() && len(s.JetStreamClusterPeers()) == len(c.running())
		}
		return leader
	})
}

// running lists the servers not shut down.
func (c *natsCluster) running() []*server.Server {
	var out []*server.Server
	for _, s := range c.servers {
		if s.Running() {
			out = append(out, s)
		}
	}
	return out
}

// urls is the client URLs of every server, comma-separated, as
// `muster server --nats` takes them.
func (c *natsCluster) urls() string {
	var out []string
	for _, s := range c.servers {
		out = append(out, s.ClientURL())
	}
	return strings.Join(out, ",")
}

// shutdown stops the server called name.
func (c *natsCluster) shutdown(t *testing.T, name string) {
	t.Helper()
	for _, s := range c.servers {
		if s.Name() == name {
			s.Shutdown()
			s.WaitForShutdown()
			return
		}
	}
	t.Fatalf("no server %q in the cluster", name)
}

package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/testcerts"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/internal/wait"
)

// Ports inside the containers.
const (
	natsPort    = "4222"
	routePort   = "6222"
	apiPort     = "4747"
	agentDir    = "/agent"
	clusterName = "c1"
)

// Options shape a cluster; zero fields take the defaults.
type Options struct {
	// NATS is the number of NATS servers, n1..nN, in one JetStream
	// cluster (default 3).
	NATS int
	// Servers is the number of control planes, cp1..cpN (default 2).
	Servers int
	// Agents is the number of node agents, a1..aN (default 3).
	Agents int
	// NodeTTL and LeaseTTL are the control planes' --node-ttl and
	// --lease-ttl (default 10s each, for the tests to see failover soon).
	NodeTTL, LeaseTTL time.Duration
	// Heartbeat is the agents' --heartbeat (default 1s).
	Heartbeat time.Duration
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.NATS, 3)
	def(&o.Servers, 2)
	def(&o.Agents, 3)
	// Short for quick scenarios, yet longer than the ~4s an agent or a
	// control plane takes to find its NATS server cut off and reconnect to
	// another: losing a NATS server must not count as losing a node or
	// the lead.
	if o.NodeTTL == 0 {
		o.NodeTTL = 10 * time.Second
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 10 * time.Second
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = time.Second
	}
}

// Cluster is muster over a JetStream cluster in containers on a private
// bridge network: NATS servers n1.., control planes cp1.. and agents a1..,
// driven from the host with the muster binary the containers run.
type Cluster struct {
	// Network is the name of the cluster's bridge network.
	Network string
	// NATS, Servers and Agents are the containers, in the order of their
	// aliases.
	NATS, Servers, Agents []*Container
	// Token is the MUSTER_TOKEN of the control planes, agents and clients.
	Token string
	// natsPassword is the NATS password of the control planes (user
	// muster); nodePasswords those of the agents' nodes, by alias.
	natsPassword  string
	nodePasswords map[string]string
	// TLS holds the CA and the control planes' certificate (for cp1..cpN
	// and 127.0.0.1): their API listens beyond loopback, so over TLS.
	TLS testcerts.Files

	t      testing.TB
	opts   Options
	image  Image
	prefix string
	all    []*Container
	dir    string
	nc     *nats.Conn
}

// New starts a cluster for t: the NATS servers first (waiting until
// JetStream places a stream on all of them), then the control planes one
// by one (the first leads), then the agents (waiting until every node is
// listed). Everything is removed when t ends, after every container's log
// went to t.Log if t failed.
func New(t testing.TB, o Options) *Cluster {
	t.Helper()
	if os.Getenv(DeferEnv) == "1" {
		t.Skip("the cluster scenarios run in a step of their own (" + DeferEnv + "=1): .ci/run runs them next, alone")
	}
	RequireDocker(t)
	o.defaults()
	id := randomID()
	c := &Cluster{
		t: t, opts: o, image: BuildImage(t), prefix: "muster-" + id + "-",
		Network: "muster-" + id, Token: randomID() + randomID(), dir: t.TempDir(),
	}
	var names []string
	for i := 1; i <= o.Servers; i++ {
		names = append(names, fmt.Sprintf("cp%d", i))
	}
	c.TLS = testcerts.New(t, names...)
	c.writeNATSConf()
	start := time.Now()
	c.must("network", "create", "--label", "muster.test=cluster", c.Network)
	t.Cleanup(c.remove)
	c.startNATS()
	natsUp := time.Since(start)
	for i := 1; i <= o.Servers; i++ {
		c.StartServer(i)
	}
	c.WaitLeader()
	serversUp := time.Since(start)
	for i := 1; i <= o.Agents; i++ {
		c.startAgent(i)
	}
	c.WaitNodes(o.Agents)
	for _, a := range c.Agents {
		if strings.Contains(a.Logs(), "credentials can also") {
			t.Fatalf("agent %s connects with more than a node's permissions:\n%s", a.Alias, a.Logs())
		}
	}
	t.Logf("cluster %s up in %s: NATS after %s, a leading control plane after %s",
		c.Network, time.Since(start).Round(time.Millisecond), natsUp.Round(time.Millisecond), serversUp.Round(time.Millisecond))
	return c
}

// randomID is 8 random hex digits.
func randomID() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// remove dumps every container's log into t.Log when t failed, then
// removes the containers and the network.
func (c *Cluster) remove() {
	if c.nc != nil {
		c.nc.Close()
	}
	if c.t.Failed() {
		logs := make([]string, len(c.all))
		var wg sync.WaitGroup
		for i, x := range c.all {
			wg.Go(func() { logs[i] = x.Logs() })
		}
		wg.Wait()
		for i, x := range c.all {
			c.t.Logf("==== logs of %s (%s):\n%s", x.Alias, x.Name, logs[i])
		}
	}
	names := []string{"rm", "-f", "-v"}
	for _, x := range c.all {
		if x.Paused() {
			docker("unpause", x.Name) // rm -f of a paused container fails on some engines
		}
		names = append(names, x.Name)
	}
	if len(c.all) > 0 {
		if _, err := docker(names...); err != nil {
			c.t.Logf("cleanup: %v", err)
		}
	}
	if _, err := docker("network", "rm", c.Network); err != nil {
		c.t.Logf("cleanup: %v", err)
	}
}

// must runs docker args and fails t when it fails.
func (c *Cluster) must(args ...string) string {
	c.t.Helper()
	out, err := docker(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// run starts a container under alias publishing ports on 127.0.0.1 (any
// free host port), running the image's program with args.
func (c *Cluster) run(alias string, ports []string, env []string, args ...string) *Container {
	c.t.Helper()
	x := &Container{Alias: alias, Name: c.prefix + alias, c: c}
	c.all = append(c.all, x)
	cmd := []string{"run", "-d", "--name", x.Name, "--hostname", alias, "--network", c.Network, "--network-alias", alias,
		"--label", "muster.test=cluster"}
	for _, p := range ports {
		cmd = append(cmd, "-p", "127.0.0.1::"+p)
	}
	for _, e := range env {
		cmd = append(cmd, "-e", e)
	}
	// The CA and the certificate, read only, at /tls.
	cmd = append(cmd, "-v", filepath.Dir(c.TLS.CA)+":"+tlsDir+":ro")
	cmd = append(cmd, "--entrypoint", "/bin/"+args[0], c.image.Tag)
	c.must(append(cmd, args[1:]...)...)
	if err := x.lookPorts(ports); err != nil {
		c.t.Fatal(err)
	}
	return x
}

// startNATS starts the NATS servers as one JetStream cluster and waits
// until a stream with a replica on each can be made.
func (c *Cluster) startNATS() {
	c.t.Helper()
	var routes []string
	for i := 1; i <= c.opts.NATS; i++ {
		routes = append(routes, fmt.Sprintf("nats://n%d:%s", i, routePort))
	}
	for i := 1; i <= c.opts.NATS; i++ {
		alias := fmt.Sprintf("n%d", i)
		c.NATS = append(c.NATS, c.run(alias, []string{natsPort}, nil,
			"nats-server", "-c", tlsDir+"/"+natsConfFile, "-js", "-sd", "/data", "--server_name", alias, "-p", natsPort,
			"--cluster_name", clusterName, "--cluster", "nats://0.0.0.0:"+routePort,
			"--routes", strings.Join(routes, ",")))
	}
	var urls []string
	for _, x := range c.NATS {
		urls = append(urls, "nats://"+x.HostPort(natsPort))
	}
	// A partitioned server never closes the connection: pings find it
	// dead within two seconds.
	nc, err := nats.Connect(strings.Join(urls, ","), nats.UserInfo("muster", c.natsPassword), nats.IgnoreDiscoveredServers(), nats.MaxReconnects(-1),
		nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(true),
		nats.PingInterval(time.Second), nats.MaxPingsOutstanding(2))
	if err != nil {
		c.t.Fatalf("connect to NATS from the host: %v", err)
	}
	c.nc = nc
	js := c.JetStream()
	probe := jetstream.StreamConfig{Name: "probe", Subjects: []string{"probe.>"}, Replicas: c.opts.NATS, Storage: jetstream.MemoryStorage}
	wait.For(c.t, 60*time.Second, fmt.Sprintf("a JetStream cluster of %d servers", c.opts.NATS), func() (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := js.CreateStream(ctx, probe)
		return fmt.Sprint(err), err == nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := js.DeleteStream(ctx, probe.Name); err != nil {
		c.t.Fatalf("delete the probe stream: %v", err)
	}
}

// natsURLs is what the control planes get as --nats: every NATS server.
func (c *Cluster) natsURLs() string {
	var urls []string
	for _, x := range c.NATS {
		urls = append(urls, "nats://muster:"+c.natsPassword+"@"+x.Alias+":"+natsPort)
	}
	return strings.Join(urls, ",")
}

// StartServer starts control plane i (1-based: cp1..) over every NATS
// server; it serves its API beyond loopback, so with the token.
func (c *Cluster) StartServer(i int) *Container {
	c.t.Helper()
	x := c.run(fmt.Sprintf("cp%d", i), []string{apiPort}, []string{"MUSTER_TOKEN=" + c.Token},
		"muster", "server", "--nats", c.natsURLs(), "--listen", "0.0.0.0:"+apiPort, "--state-dir", "/state",
		"--node-ttl", c.opts.NodeTTL.String(), "--lease-ttl", c.opts.LeaseTTL.String(),
		"--tls-cert", c.inContainer(c.TLS.Cert), "--tls-key", c.inContainer(c.TLS.Key), "--tls-ca", c.inContainer(c.TLS.CA))
	c.Servers = append(c.Servers, x)
	return x
}

// agentServers is the --server of the agents: every control plane where
// the agent takes a list (the help line of its --server flag mentions a
// comma), else the first.
func (c *Cluster) agentServers() string {
	var addrs []string
	for _, x := range c.Servers {
		addrs = append(addrs, x.Alias+":"+apiPort)
	}
	help, _ := exec.Command(c.image.Muster, "agent", "--help").CombinedOutput()
	for _, line := range strings.Split(string(help), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--server ") && (strings.Contains(line, ",") || strings.Contains(line, "comma")) {
			return strings.Join(addrs, ",")
		}
	}
	return addrs[0]
}

// startAgent starts agent i (a1..) as node a<i>.
func (c *Cluster) startAgent(i int) *Container {
	c.t.Helper()
	alias := fmt.Sprintf("a%d", i)
	// The API with the token; NATS as its node, with a node's permissions.
	x := c.run(alias, nil, []string{"MUSTER_TOKEN=" + c.Token, "MUSTER_NATS_PASSWORD=" + c.nodePasswords[alias]},
		"muster", "agent", "--server", c.agentServers(), "--node-id", alias, "--dir", agentDir,
		"--heartbeat", c.opts.Heartbeat.String(), "--tls-ca", c.inContainer(c.TLS.CA))
	c.Agents = append(c.Agents, x)
	return x
}

// Container returns the container of alias (n1, cp2, a3...).
func (c *Cluster) Container(alias string) *Container {
	c.t.Helper()
	for _, x := range c.all {
		if x.Alias == alias {
			return x
		}
	}
	c.t.Fatalf("no container %s in the cluster", alias)
	return nil
}

// JetStream is a JetStream client of the cluster from the host, through
// the NATS servers' published ports (it follows them as they come and go).
func (c *Cluster) JetStream() jetstream.JetStream {
	c.t.Helper()
	js, err := jetstream.New(c.nc)
	if err != nil {
		c.t.Fatal(err)
	}
	return js
}

// tlsDir is where the containers see the TLS files.
const tlsDir = "/tls"

// inContainer is the path of a TLS file inside the containers.
func (c *Cluster) inContainer(path string) string { return tlsDir + "/" + filepath.Base(path) }

// DeferEnv, set to 1, makes the scenarios skip: .ci/run sets it for the
// README test command and runs them next in a step of their own, so that
// the load of the other packages does not stretch the failovers they time.
const DeferEnv = "MUSTER_CLUSTER_DEFER"

package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// heartbeat is how often a node records that it is alive; the control
// plane drops the runner of a node silent for three of them.
const heartbeat = 10 * time.Second

// beat records node n as alive now, and counts the heartbeat.
func beat(ctx context.Context, st api.Backend, n state.Node) error {
	n.LastSeen = time.Now().UTC()
	_, err := st.PutNode(ctx, n)
	metrics.HeartbeatSent(err)
	return err
}

// keepAlive records node n as alive every d until ctx is done; a beat
// that fails is logged, and the next one tries again.
func keepAlive(ctx context.Context, log *slog.Logger, st api.Backend, n state.Node, d time.Duration) {
	keepAliveOn(ctx, log, st, n, d, nil, nil, nil)
}

// keepAliveOn is keepAlive that also beats at once on a signal of now (the
// connection to the state came back), does not log the beats that fail
// while down says the connection is down (its loss is logged once), and
// signals back (without blocking) when a beat is recorded after one that
// failed: the node was out of the store's reach for a while.
func keepAliveOn(ctx context.Context, log *slog.Logger, st api.Backend, n state.Node, d time.Duration, now <-chan struct{}, down func() bool, back chan<- struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	failed := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-now:
		}
		// A beat that cannot land within the interval (its NATS server
		// went away) is given up, so that the next one goes through the
		// server the connection moves to in time.
		bctx, cancel := context.WithTimeout(ctx, d)
		err := beat(bctx, st, n)
		cancel()
		if err != nil && ctx.Err() == nil && (down == nil || !down()) {
			log.Warn("a heartbeat could not be recorded", "component", "node", "node", n.ID, "err", err)
		}
		if err == nil && failed && back != nil {
			select {
			case back <- struct{}{}:
			default:
			}
		}
		failed = err != nil
	}
}

func newAgent() *cobra.Command {
	var nf nodeFlags
	var server, addr, stateDir, dir, ca string
	var every time.Duration
	var userConf bool
	c := &cobra.Command{
		Use:   "agent",
		Short: "Run a node agent that joins a control plane, until interrupted",
		Long: `Agent runs the executions a control plane ('muster server' or 'muster dev')
assigns to this node. It finds the control plane's NATS servers through the
API at --server (a comma-separated list of the control planes of a cluster:
the first that answers is used), registers the node with its labels
(--label, --node-config) and keeps it alive with a heartbeat; daemon jobs
whose selector matches it start here as it joins.

The agent connects to every NATS URL of the cluster, and to those the
cluster advertises, and reconnects for as long as it runs: its executions
go on through the loss of a NATS server or of the leading control plane,
and report their end once the connection is back.

Executions keep their roots and logs under --dir. --tls-ca (MUSTER_TLS_CA)
verifies a control plane serving TLS, its API and its NATS servers.

Capacity. The node offers its executions the cpus and memory of the
machine (runtime.NumCPU; MemTotal of /proc/meminfo, or the memory.max of
the agent's cgroup when less), or what --cpus and --memory say: the
control plane places an execution here only while its task.resources fit
beside the executions placed here and not yet ended; what fits nowhere
waits queued, highest priority first. 'muster nodes' shows what each node
offers, uses and has free.

Ports. A service or daemon execution gets the host ports of its task.ports
here: a static port as written (refused while another execution of this
node holds it, or some program of the host listens on it), a dynamic one
from --port-range. The task finds each in MUSTER_PORT_<NAME>; a docker
bridge container has them published on every interface. The control
plane's health checks probe them through this agent, on 127.0.0.1.

Credentials. A node connects to NATS with its own credentials, which allow
only what a node does. On a control plane's own NATS server the agent joins
for them with MUSTER_TOKEN (a join token, 'muster token create --role join',
or an admin's) and keeps them in --dir/node-credentials.json, mode 0600; it
joins once, and a revoked node is refused until the file is removed. On an
external NATS cluster the operator makes each node a NATS user
(docs/cluster.md): give its password as MUSTER_NATS_PASSWORD (and the user as
MUSTER_NATS_USER when it is not the node id). The agent warns at start when
its NATS credentials can do more than a node needs.

Interrupt (Ctrl-C) stops the executions it runs; the control plane then
replaces them elsewhere or when the node comes back.`,
		Example: `  MUSTER_TOKEN=$(muster token create --namespace '*' --role join --ttl 1h) \
    muster agent --server 127.0.0.1:4747 --node-id edge-1 --label zone=b
  muster agent --server 10.0.0.5:4747,10.0.0.6:4747,10.0.0.7:4747 --tls-ca /etc/muster/ca.pem
  muster agent --server 10.0.0.5:4747 --node-config /etc/muster/node.yaml
  muster agent --server 10.0.0.5:4747 --cpus 6 --memory 12G   # keep 2 cpus and 4G for the host`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if userConf {
				n, err := nf.localNode()
				if err != nil {
					return err
				}
				fmt.Fprint(c.OutOrStdout(), state.NodeUserConf(n.ID, "MUSTER_NATS_PASSWORD"))
				return nil
			}
			if server == "" && c.Flags().Changed("addr") {
				server = addr
			}
			if server == "" {
				// As other commands do: the control plane holding the state
				// directory, if one runs.
				if rec, ok := readDevRecord(stateDir); ok {
					server, ca = rec.Addr, rec.ca(ca)
				}
			}
			if server == "" {
				return fmt.Errorf("no control plane to join: give its API address with --server (or MUSTER_ADDR), or run 'muster dev' or 'muster server' on the state directory %s", stateDir)
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if every <= 0 {
				return fmt.Errorf("--heartbeat %s: want a positive duration", every)
			}
			limit, err := outputLimit(c)
			if err != nil {
				return err
			}
			ports, err := portRange(c)
			if err != nil {
				return err
			}
			// --cpus and --memory are checked before anything starts.
			if _, err := nf.capacity(); err != nil {
				return err
			}
			t := agentTarget{server: server, ca: ca, token: apiToken(server, stateDir)}
			return runAgent(ctx, c.OutOrStdout(), logger(c, "agent"), &nf, t, dir, every, nodeLimits{maxOutput: limit, ports: ports})
		},
	}
	nf.register(c, false)
	nf.registerCapacity(c)
	c.Flags().StringVar(&server, "server", os.Getenv("MUSTER_ADDR"), "`host:port` of the control plane's API, or a comma-separated list of a cluster's (MUSTER_ADDR); default: the one holding --state-dir")
	c.Flags().StringVar(&addr, "addr", "", "the same as --server, as other commands spell it")
	c.Flags().StringVar(&stateDir, "state-dir", envOr("MUSTER_STATE_DIR", ".muster"), "state directory whose running control plane to join when --server is not given (MUSTER_STATE_DIR)")
	registerTLSCA(c, &ca, "; it verifies the NATS servers too")
	c.Flags().StringVar(&dir, "dir", envOr("MUSTER_AGENT_DIR", ".muster-agent"), "directory for execution roots and logs (MUSTER_AGENT_DIR)")
	c.Flags().DurationVar(&every, "heartbeat", heartbeat, "how often the node tells the control plane it is alive (keep it well under the control plane's --node-ttl)")
	c.Flags().BoolVar(&userConf, "nats-user-conf", false, "print this node's NATS user, with the permissions a node needs, for the configuration of an external NATS cluster (docs/cluster.md), and exit")
	registerOutputLimit(c)
	registerPortRange(c)
	registerLogLevel(c)
	return c
}

// registerOutputLimit adds --max-output-size to a command that runs a node
// agent (agent, dev).
func registerOutputLimit(c *cobra.Command) {
	c.Flags().String("max-output-size", envOr("MUSTER_MAX_OUTPUT_SIZE", "1G"), "most one execution may store as output documents, such as 512M or 2G (MUSTER_MAX_OUTPUT_SIZE); a file that would pass it is skipped and recorded on the execution")
}

// outputLimit reads --max-output-size of c in bytes; 0 (the agent's
// default) when c has no such flag.
func outputLimit(c *cobra.Command) (int64, error) {
	f := c.Flags().Lookup("max-output-size")
	if f == nil {
		return 0, nil
	}
	m, err := schema.ParseMemory(f.Value.String())
	if err != nil || m <= 0 {
		return 0, fmt.Errorf("--max-output-size %q: want a whole number of M or G of at least 1M, such as 512M or 2G", f.Value.String())
	}
	return m.Bytes(), nil
}

// registerPortRange adds --port-range to a command that runs a node agent
// (agent, dev).
func registerPortRange(c *cobra.Command) {
	c.Flags().String("port-range", envOr("MUSTER_PORT_RANGE", runner.DefaultPortRange.String()), "the `LO-HI` range of host ports this node picks dynamic task.ports from, within 1024-65535 (MUSTER_PORT_RANGE); static ports may lie outside it, and a port some program of the host holds is skipped")
}

// portRange reads --port-range of c; the zero range (the agent's default)
// when c has no such flag.
func portRange(c *cobra.Command) (runner.PortRange, error) {
	f := c.Flags().Lookup("port-range")
	if f == nil {
		return runner.PortRange{}, nil
	}
	r, err := runner.ParsePortRange(f.Value.String())
	if err != nil {
		return runner.PortRange{}, fmt.Errorf("--port-range: %w", err)
	}
	return r, nil
}

// nodeLimits are what the flags of a command running a node agent set on
// it: the most one execution may store as outputs (0: the default) and the
// node's free range of host ports (zero: the default).
type nodeLimits struct {
	maxOutput int64
	ports     runner.PortRange
}

// agentTarget is the control plane an agent joins: its API address (a
// comma-separated list of a cluster's) and the CA file that verifies it
// and its NATS servers over TLS ("" when none).
type agentTarget struct {
	server, ca string
	// token is presented to the control plane: MUSTER_TOKEN, or the one
	// the control plane recorded in the state directory it holds.
	token string
}

// runAgent joins the control plane of t and serves this node, within
// limits.
func runAgent(ctx context.Context, w io.Writer, log *slog.Logger, nf *nodeFlags, t agentTarget, dir string, every time.Duration, limits nodeLimits) error {
	token, server := t.token, t.server
	client, err := newAPIClient(server, t.ca, token)
	if err != nil {
		return err
	}
	defer client.Close()
	info, err := client.Info(ctx)
	if err != nil {
		return fmt.Errorf("control plane at %s: %w", server, explainTLS(err, t.ca))
	}
	natsURL, err := reachableNATS(info.NATSURL, client.Addr())
	if err != nil {
		return err
	}
	n, err := nf.localNode()
	if err != nil {
		return err
	}
	for _, id := range info.Nodes {
		if id == n.ID {
			return fmt.Errorf("node %s is the control plane's own node (muster %s runs it): give this agent another id with --node-id", n.ID, info.Mode)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var creds []nats.Option
	credsFile := ""
	// A node's own credentials may not write executions: it records them
	// through the control planes.
	gateway := info.NodeCredentials || os.Getenv("MUSTER_NATS_PASSWORD") != ""
	switch {
	case info.NodeCredentials:
		if creds, credsFile, err = nodeCredentials(ctx, w, client, dir, n.ID, token); err != nil {
			return err
		}
	case os.Getenv("MUSTER_NATS_PASSWORD") != "":
		// A NATS server whose users the operator makes: this node's own
		// (docs/cluster.md), named after the node unless MUSTER_NATS_USER
		// says otherwise.
		user := cmp.Or(os.Getenv("MUSTER_NATS_USER"), n.ID)
		creds = []nats.Option{nats.UserInfo(user, os.Getenv("MUSTER_NATS_PASSWORD")), nats.CustomInboxPrefix(state.NodeInbox(n.ID))}
	case token != "":
		creds = []nats.Option{nats.Token(token), nats.CustomInboxPrefix(state.NodeInbox(n.ID))}
	}
	back := make(chan struct{}, 1)
	opts, err := withNATSTLS(append(creds, natsOptions(log, back)...), t.ca)
	if err != nil {
		return err
	}
	st, err := connectNATS(ctx, w, natsURL, opts)
	if err != nil {
		if credsFile != "" && errors.Is(err, nats.ErrAuthorization) {
			return fmt.Errorf("the NATS server at %s refused the credentials of node %s in %s (the token was revoked, or the control plane's state is new): remove the file to join again", natsURL, n.ID, credsFile)
		}
		return explainTLS(err, t.ca)
	}
	defer st.Close()
	st.SetLogger(log)
	if !info.NodeCredentials {
		warnOverreach(ctx, w, st, n.ID)
	}
	agent, err := localAgent(st, dir, n.ID, limits)
	if err != nil {
		return err
	}
	agent.Log = log
	if gateway {
		agent.Executions = remote.Gateway{NC: st.Conn(), NodeID: n.ID}
	}
	// localAgent keeps executions under <dir>/executions.
	if err := beat(ctx, st, n); err != nil {
		return err
	}
	nc := st.Conn()
	recheck := make(chan struct{}, 1)
	go keepAliveOn(ctx, log, st, n, every, back, func() bool { return !nc.IsConnected() }, recheck)
	fmt.Fprintf(w, "muster agent: node %s joined the control plane at %s (NATS %s), offering %s\n", n.ID, client.Addr(), natsURL, n.Capacity)
	if nf.capacityNote != "" {
		fmt.Fprintf(w, "muster agent: note: %s\n", nf.capacityNote)
	}
	err = remote.ServeWith(ctx, st.Conn(), agent, remote.SpecsFrom(st), remote.ServeOptions{Recheck: recheck})
	fmt.Fprintf(w, "muster agent: node %s stopped\n", n.ID)
	return err
}

// natsReconnectWait is how long the agent waits between two rounds of
// attempts to reconnect to the NATS servers it knows.
const natsReconnectWait = time.Second

// natsPing is how often a NATS connection is checked; after natsPingsOut
// unanswered checks it counts as broken and reconnects to another server
// of the cluster. A connection cut off by a partition (no reset ever
// arrives) is thus left within about 3s, not the library's 4 minutes:
// well within a node's TTL and a lease's, so that neither an agent nor the
// leader is taken for gone because its NATS server was.
const (
	natsPing     = time.Second
	natsPingsOut = 3
)

// natsOptions are the options of the agent's NATS connection, less its
// credentials: reconnecting for as long as the agent runs to any server
// given or advertised by the cluster, and logging each loss and return of
// the connection once. A return is also signalled on back, without
// blocking.
func natsOptions(log *slog.Logger, back chan<- struct{}) []nats.Option {
	return append([]nats.Option{},
		nats.MaxReconnects(-1),
		nats.ReconnectWait(natsReconnectWait),
		nats.PingInterval(natsPing),
		nats.MaxPingsOutstanding(natsPingsOut),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			if err == nil && nc.IsClosed() {
				return // the agent closes it as it stops
			}
			log.Warn("lost the connection to NATS; reconnecting, executions go on", "component", "node", "err", err)
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to NATS", "component", "node", "url", nc.ConnectedUrlRedacted(), "servers", len(nc.Servers()))
			select {
			case back <- struct{}{}:
			default:
			}
		}),
	)
}

// reachableNATS rewrites the NATS URLs of a control plane (a
// comma-separated list for a cluster) whose host is unspecified (the
// server listens on every address) to the host the API was reached at.
func reachableNATS(natsURLs, server string) (string, error) {
	if strings.TrimSpace(natsURLs) == "" {
		return "", errors.New("the control plane has no NATS listener for agents")
	}
	var out []string
	for _, one := range strings.Split(natsURLs, ",") {
		if one = strings.TrimSpace(one); one == "" {
			continue
		}
		u, err := reachableURL(one, server)
		if err != nil {
			return "", err
		}
		out = append(out, u)
	}
	return strings.Join(out, ","), nil
}

// reachableURL is reachableNATS of one URL.
func reachableURL(natsURL, server string) (string, error) {
	u, err := url.Parse(natsURL)
	if err != nil {
		return "", fmt.Errorf("the control plane's NATS URL %q: %w", natsURL, err)
	}
	if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsUnspecified() {
		s := server
		if p, err := url.Parse(server); err == nil && p.Host != "" {
			s = p.Host
		}
		host, _, err := net.SplitHostPort(s)
		if err != nil {
			host = s
		}
		u.Host = net.JoinHostPort(host, u.Port())
	}
	return u.String(), nil
}

// warnOverreach says so when the agent's NATS credentials (on a NATS
// server whose users muster does not make) can do more than a node needs.
func warnOverreach(ctx context.Context, w io.Writer, st *state.Store, node string) {
	if more := st.Overreach(ctx); len(more) > 0 {
		fmt.Fprintf(w, "muster agent: warning: these NATS credentials can also %s: a node taken over could too; give node %s a NATS user of its own with the permissions in docs/cluster.md\n",
			strings.Join(more, ", "), node)
	}
}

// natsConnectWait is how long an agent waits between two attempts to
// reach NATS at start.
const natsConnectWait = 2 * time.Second

// connectNATS connects to the NATS servers at urls, waiting for one to
// answer when none does yet (a node may well start before its control
// plane's NATS), saying so once, until ctx ends. Other errors (refused
// credentials, TLS) end the wait at once.
func connectNATS(ctx context.Context, w io.Writer, urls string, opts []nats.Option) (*state.Store, error) {
	said := false
	for {
		st, err := state.Connect(ctx, urls, opts...)
		if err == nil || !errors.Is(err, nats.ErrNoServers) || ctx.Err() != nil {
			return st, err
		}
		if !said {
			fmt.Fprintf(w, "muster agent: no NATS server answers at %s yet; waiting (interrupt to stop)\n", urls)
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(natsConnectWait):
		}
	}
}

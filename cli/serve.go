package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/state"
)

// defaultListen is where `muster dev` and `muster server` serve their API.
const defaultListen = "127.0.0.1:4747"

// heartbeat is how often a node records that it is alive; the control
// plane drops the runner of a node silent for three of them.
const heartbeat = 10 * time.Second

func newDev() *cobra.Command {
	var sf stateFlags
	var nf nodeFlags
	var listen, natsListen string
	var ttl, leaseTTL time.Duration
	c := &cobra.Command{
		Use:   "dev",
		Short: "Run a local control plane with a local node, until interrupted",
		Long: `Dev runs a control plane and a node agent in one process over the state
directory, for development on one machine. It keeps service and daemon jobs
running (restarting them per restart_policy, checking their health), drives
the rollouts that 'muster apply' asks for, and resumes what an earlier
control plane left unfinished.

Other muster commands given the same --state-dir (or MUSTER_ADDR) talk to it
through its versioned JSON HTTP API on --listen: dev records that address in
the state directory. Node agents on other machines or in other processes
join with 'muster agent --server ADDR'.

Listening beyond loopback requires a bearer token in MUSTER_TOKEN, which
clients and agents must then present. Interrupt (Ctrl-C) stops every
execution it runs and exits.`,
		Example: `  muster dev
  muster dev --label zone=a --listen 127.0.0.1:5858
  MUSTER_TOKEN=$(openssl rand -hex 16) muster dev --listen 0.0.0.0:4747`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return serveControlPlane(c, &sf, &nf, listen, natsListen, ttl, leaseTTL, "dev")
		},
	}
	registerServe(c, &sf, &listen, &natsListen, &ttl, &leaseTTL)
	nf.register(c, false)
	return c
}

func newServer() *cobra.Command {
	var sf stateFlags
	var listen, natsListen string
	var ttl, leaseTTL time.Duration
	c := &cobra.Command{
		Use:   "server",
		Short: "Run a control plane without a node, until interrupted",
		Long: `Server runs a control plane over the state directory, like 'muster dev' but
with no node of its own: executions run on the nodes whose agents join it
('muster agent --server ADDR'). Its API listens on --listen and agents reach
its NATS server on --nats-listen.

With --nats the state lives in an external NATS server with JetStream
instead of the state directory, and agents connect to that server. Several
servers may share it: one leads (it holds a lease in the store), the others
stand by, answering 503, and one of them takes over when the leader has been
silent for --lease-ttl.

Listening beyond loopback requires a bearer token in MUSTER_TOKEN; agents
and clients present the same token.`,
		Example: `  muster server
  MUSTER_TOKEN=... muster server --listen 10.0.0.5:4747 --nats-listen 10.0.0.5:4222
  MUSTER_TOKEN=... muster server --nats nats://nats-1:4222,nats://nats-2:4222 --listen 10.0.0.5:4747`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return serveControlPlane(c, &sf, nil, listen, natsListen, ttl, leaseTTL, "server")
		},
	}
	registerServe(c, &sf, &listen, &natsListen, &ttl, &leaseTTL)
	return c
}

func registerServe(c *cobra.Command, sf *stateFlags, listen, natsListen *string, ttl, leaseTTL *time.Duration) {
	c.Flags().StringVar(&sf.nats, "nats", os.Getenv("MUSTER_NATS_URL"), "keep the state in an external NATS server with JetStream instead of the state directory (MUSTER_NATS_URL); control planes sharing it take turns leading")
	c.Flags().DurationVar(leaseTTL, "lease-ttl", 15*time.Second, "with --nats: how long the leading control plane may go silent before another takes over")
	c.Flags().DurationVar(ttl, "node-ttl", 3*heartbeat, "how long a node agent may go without a heartbeat before its executions are replaced")
	c.Flags().StringVar(&sf.dir, "state-dir", envOr("MUSTER_STATE_DIR", ".muster"), "state directory to hold (MUSTER_STATE_DIR)")
	c.Flags().StringVar(listen, "listen", envOr("MUSTER_LISTEN", defaultListen), "`host:port` of the HTTP API (MUSTER_LISTEN)")
	c.Flags().StringVar(natsListen, "nats-listen", "", "`host:port` where node agents reach the NATS server (default: the API host, a free port)")
}

// natsPortFile keeps the NATS port of the last control plane of a state
// directory.
const natsPortFile = "nats-port"

// lastNATSPort returns the NATS port the last control plane of dir used if
// it is free on host now, else "0" (any free port).
func lastNATSPort(dir, host string) string {
	b, err := os.ReadFile(filepath.Join(dir, natsPortFile))
	port := strings.TrimSpace(string(b))
	if err != nil || port == "" {
		return "0"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return "0"
	}
	l.Close()
	return port
}

// saveNATSPort records the port of natsURL for the next control plane.
func saveNATSPort(dir, natsURL string) {
	if u, err := url.Parse(natsURL); err == nil && u.Port() != "" {
		os.WriteFile(filepath.Join(dir, natsPortFile), []byte(u.Port()+"\n"), 0o600)
	}
}

// controlPlane serves a Controller through the API, with its Info.
type controlPlane struct {
	*apply.Controller
	info api.Info
}

// Info describes the control plane.
func (c controlPlane) Info(context.Context) (api.Info, error) { return c.info, nil }

// serveControlPlane runs `muster dev` (nf set: with the local node) or
// `muster server` until interrupted.
func serveControlPlane(c *cobra.Command, sf *stateFlags, nf *nodeFlags, listen, natsListen string, ttl, leaseTTL time.Duration, mode string) error {
	if ttl <= 0 || leaseTTL <= 0 {
		return fmt.Errorf("--node-ttl %s, --lease-ttl %s: want positive durations", ttl, leaseTTL)
	}
	token := os.Getenv("MUSTER_TOKEN")
	if !api.IsLoopback(listen) && token == "" {
		return fmt.Errorf("--listen %s reaches beyond loopback: set MUSTER_TOKEN to a secret that clients and agents must present", listen)
	}
	if natsListen != "" && !api.IsLoopback(natsListen) && token == "" {
		return fmt.Errorf("--nats-listen %s reaches beyond loopback: set MUSTER_TOKEN", natsListen)
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := c.OutOrStdout()
	external := sf.nats != ""

	if rec, ok := readDevRecord(sf.dir); ok && !external && processAlive(rec.PID) && rec.PID != os.Getpid() {
		// A record left by a control plane that died is no reason to
		// refuse (its pid may be another process's now): only one that
		// answers is. The directory lock decides the rest.
		if p, err := dial(ctx, rec.Addr, filepath.Join(sf.dir, devFile)); err == nil {
			p.Close()
			return fmt.Errorf("a control plane (pid %d) already serves %s at %s", rec.PID, sf.dir, rec.Addr)
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	st, info, err := openControlStore(ctx, sf, listen, natsListen, token)
	if err != nil {
		return err
	}
	defer st.Close()
	info.Mode = mode

	// The API answers from now on: 503 until this process leads.
	var handler atomic.Pointer[http.Handler]
	standby := http.Handler(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		rw.Header().Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintf(rw, `{"error": "this control plane stands by: another one leads (see its log)", "code": "standby"}`+"\n")
	}))
	handler.Store(&standby)
	// Event streams end with this context, so that shutdown does not wait
	// for the clients that follow them.
	reqCtx, endRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer endRequests()
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second,
		Handler:     http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(rw, r) }),
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Serve(ln) }()
	defer shutdownHTTP(srv)

	// Over a shared NATS server, one control plane leads at a time.
	lost := make(chan error, 1)
	if external {
		lease, err := lead(ctx, w, st, fmt.Sprintf("%s (pid %d)", addr, os.Getpid()), leaseTTL, mode)
		if err != nil {
			return err
		}
		defer lease.Release(context.WithoutCancel(ctx))
		go keepLease(ctx, lease, leaseTTL, lost)
	}

	runners := &apply.Runners{}
	if nf != nil {
		n, err := nf.localNode()
		if err != nil {
			return err
		}
		agent, err := localAgent(st, sf.dir, n.ID)
		if err != nil {
			return err
		}
		runners.Set(n.ID, agent)
		info.Nodes = []string{n.ID}
		if err := beat(ctx, st, n); err != nil {
			return err
		}
		go keepAlive(ctx, st, n, heartbeat)
	}
	// A remote execution whose agent stops answering is lost within about
	// the node TTL.
	ctl := &apply.Controller{Store: st, Runners: runners, NodeTTL: ttl,
		Connect: func(n state.Node) apply.Runner {
			return &remote.Client{NodeID: n.ID, NC: st.Conn(), Store: st, Ping: ttl / 3, Reconnect: ttl}
		}}
	ctlCtx, stopCtl := context.WithCancel(ctx)
	defer stopCtl()
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- ctl.Run(ctlCtx) }()
	select {
	case <-ctl.Ready():
	case err := <-ctlDone:
		return err
	}
	serving := api.NewServer(st, controlPlane{ctl, info}, token)
	handler.Store(&serving)
	if !external {
		if err := writeDevRecord(sf.dir, addr); err != nil {
			return err
		}
		defer os.Remove(filepath.Join(sf.dir, devFile))
	}

	where := "state in " + sf.dir
	if external {
		where = "state in NATS at " + sf.nats
	}
	fmt.Fprintf(w, "muster %s: API on http://%s (%s)\n", mode, addr, where)
	if len(info.Nodes) > 0 {
		fmt.Fprintf(w, "  local node: %s\n", info.Nodes[0])
	}
	fmt.Fprintf(w, "  node agents join with: muster agent --server %s\n", addr)
	if external {
		fmt.Fprintf(w, "  commands reach it with --addr %s, or MUSTER_ADDR=%s\n", addr, addr)
	} else {
		fmt.Fprintf(w, "  commands reach it with --state-dir %s, or MUSTER_ADDR=%s\n", sf.dir, addr)
	}

	var failure error
	select {
	case <-ctx.Done():
	case err := <-lost:
		failure = err
	case err := <-srvDone:
		failure = fmt.Errorf("API server: %w", err)
	case err := <-ctlDone:
		return err
	}
	fmt.Fprintf(w, "muster %s: stopping the executions it runs\n", mode)
	endRequests()
	shutdownHTTP(srv)
	stopCtl()
	if err := <-ctlDone; err != nil && failure == nil {
		failure = err
	}
	return failure
}

// openControlStore opens the state a control plane serves: the embedded
// NATS server of the state directory (with a listener for agents), or the
// external one of --nats.
func openControlStore(ctx context.Context, sf *stateFlags, listen, natsListen, token string) (*state.Store, api.Info, error) {
	info := api.Info{APIVersion: api.Version, PID: os.Getpid()}
	if sf.nats != "" {
		st, err := state.Connect(ctx, sf.nats, nats.MaxReconnects(-1))
		if err != nil {
			return nil, info, err
		}
		info.NATSURL = sf.nats
		return st, info, nil
	}
	if natsListen == "" {
		host, _, err := net.SplitHostPort(listen)
		if err != nil {
			return nil, info, fmt.Errorf("--listen %q: %w", listen, err)
		}
		// The port of the last run, so that agents reconnect to a
		// restarted control plane by themselves; a free one otherwise.
		natsListen = net.JoinHostPort(host, lastNATSPort(sf.dir, host))
	}
	st, err := state.Open(ctx, sf.dir, state.Options{Listen: natsListen, Token: token, LockWait: lockWait})
	if err != nil {
		return nil, info, err
	}
	saveNATSPort(sf.dir, st.ClientURL())
	info.NATSURL = st.ClientURL()
	if abs, err := filepath.Abs(sf.dir); err == nil {
		info.StateDir = abs
	}
	return st, info, nil
}

func shutdownHTTP(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
}

// beat records node n as alive now.
func beat(ctx context.Context, st api.Backend, n state.Node) error {
	n.LastSeen = time.Now().UTC()
	_, err := st.PutNode(ctx, n)
	return err
}

// keepAlive records node n as alive every d until ctx is done.
func keepAlive(ctx context.Context, st api.Backend, n state.Node, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			beat(ctx, st, n)
		}
	}
}

func newAgent() *cobra.Command {
	var nf nodeFlags
	var server, addr, stateDir, dir string
	var every time.Duration
	c := &cobra.Command{
		Use:   "agent",
		Short: "Run a node agent that joins a control plane, until interrupted",
		Long: `Agent runs the executions a control plane ('muster server' or 'muster dev')
assigns to this node. It finds the control plane's NATS server through the
API at --server, registers the node with its labels (--label,
--node-config) and keeps it alive with a heartbeat; daemon jobs whose
selector matches it start here as it joins.

Executions keep their roots and logs under --dir. MUSTER_TOKEN is presented
to the control plane when it requires one. Interrupt (Ctrl-C) stops the
executions it runs; the control plane then replaces them elsewhere or when
the node comes back.`,
		Example: `  muster agent --server 127.0.0.1:4747 --node-id edge-1 --label zone=b
  muster agent --server 10.0.0.5:4747 --node-config /etc/muster/node.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if server == "" && c.Flags().Changed("addr") {
				server = addr
			}
			if server == "" {
				// As other commands do: the control plane holding the state
				// directory, if one runs.
				if rec, ok := readDevRecord(stateDir); ok {
					server = rec.Addr
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
			return runAgent(ctx, c.OutOrStdout(), &nf, server, dir, every)
		},
	}
	nf.register(c, false)
	c.Flags().StringVar(&server, "server", os.Getenv("MUSTER_ADDR"), "`host:port` of the control plane's API (MUSTER_ADDR); default: the one holding --state-dir")
	c.Flags().StringVar(&addr, "addr", "", "the same as --server, as other commands spell it")
	c.Flags().StringVar(&stateDir, "state-dir", envOr("MUSTER_STATE_DIR", ".muster"), "state directory whose running control plane to join when --server is not given (MUSTER_STATE_DIR)")
	c.Flags().StringVar(&dir, "dir", envOr("MUSTER_AGENT_DIR", ".muster-agent"), "directory for execution roots and logs (MUSTER_AGENT_DIR)")
	c.Flags().DurationVar(&every, "heartbeat", heartbeat, "how often the node tells the control plane it is alive (keep it well under the control plane's --node-ttl)")
	return c
}

// runAgent joins the control plane at server and serves this node.
func runAgent(ctx context.Context, w io.Writer, nf *nodeFlags, server, dir string, every time.Duration) error {
	token := os.Getenv("MUSTER_TOKEN")
	client := api.NewClient(server, token)
	defer client.Close()
	info, err := client.Info(ctx)
	if err != nil {
		return fmt.Errorf("control plane at %s: %w", server, err)
	}
	natsURL, err := reachableNATS(info.NATSURL, server)
	if err != nil {
		return err
	}
	var opts []nats.Option
	if token != "" {
		opts = append(opts, nats.Token(token))
	}
	opts = append(opts, nats.MaxReconnects(-1))
	st, err := state.Connect(ctx, natsURL, opts...)
	if err != nil {
		return err
	}
	defer st.Close()
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
	agent, err := localAgent(st, dir, n.ID)
	if err != nil {
		return err
	}
	// localAgent keeps executions under <dir>/executions.
	if err := beat(ctx, st, n); err != nil {
		return err
	}
	go keepAlive(ctx, st, n, every)
	fmt.Fprintf(w, "muster agent: node %s joined the control plane at %s (NATS %s)\n", n.ID, server, natsURL)
	err = remote.Serve(ctx, st.Conn(), agent, remote.SpecsFrom(st))
	fmt.Fprintf(w, "muster agent: node %s stopped\n", n.ID)
	return err
}

// reachableNATS rewrites a NATS URL whose host is unspecified (the server
// listens on every address) to the host the API was reached at.
func reachableNATS(natsURL, server string) (string, error) {
	if natsURL == "" {
		return "", errors.New("the control plane has no NATS listener for agents")
	}
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

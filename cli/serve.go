package cli

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/metrics"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/runner/remote"
	"github.com/muster-dev/muster/state"
)

// defaultListen is where `muster dev` and `muster server` serve their API.
const defaultListen = "127.0.0.1:4747"

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

Its node offers the executions the machine's cpus and memory, or what
--cpus and --memory say: an execution is placed only while its
task.resources fit beside those placed and not yet ended, and what fits
nowhere waits (a batch job queued, a service degraded), started in
priority order as room frees ('muster nodes' shows the room).

Other muster commands given the same --state-dir (or MUSTER_ADDR) talk to it
through its versioned JSON HTTP API on --listen: dev records that address in
the state directory. Node agents on other machines or in other processes
join with 'muster agent --server ADDR'. The same listener serves a web UI
at /ui/ (the banner prints a link that logs your browser in with the token
made for this run) and Prometheus metrics at /metrics.

Listening beyond loopback requires TLS (--tls-cert, --tls-key) and a bearer
token in MUSTER_TOKEN: clients and agents verify the certificate with
--tls-ca and present the token. Interrupt (Ctrl-C) stops the
executions of its own node, records them stopped and the node down, and
exits; those of node agents keep running, and the next control plane over
the state directory takes them over, as it resumes every rollout where it
was.`,
		Example: `  muster dev
  muster dev --label zone=a --listen 127.0.0.1:5858
  muster dev --cpus 2 --memory 4G
  MUSTER_TOKEN=$(openssl rand -hex 16) muster dev --listen 0.0.0.0:4747 \
    --tls-cert cert.pem --tls-key key.pem --tls-ca ca.pem`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return serveControlPlane(c, &sf, &nf, listen, natsListen, ttl, leaseTTL, "dev")
		},
	}
	registerServe(c, &sf, &listen, &natsListen, &ttl, &leaseTTL)
	nf.register(c, false)
	nf.registerCapacity(c)
	registerOutputLimit(c)
	registerPortRange(c)
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
servers may share it: one leads (it holds a lease the NATS servers expire, and
its writes are refused once another took it over) and drives
the rollouts, the others stand by, and one of them takes over when the
leader has been silent for --lease-ttl, adopting the executions as they
run. Every one serves the whole API: what only the leader does (rollouts,
promotions, stops, logs) is relayed to it. A server that
loses the lead (it was paused, or cut off, past its lease) stands by again:
it stops driving rollouts and leaves every execution running.

Its API's listener also serves a web UI at /ui/ and Prometheus metrics at
/metrics (docs/ui.md, docs/metrics.md).

Stopping or killing a control plane never stops what node agents run: the
next one adopts their executions without restarting them.

Listening beyond loopback requires TLS (--tls-cert, --tls-key: the API over
https, the NATS listener over TLS) and a bearer token in MUSTER_TOKEN; agents
and clients verify the certificate with --tls-ca and present the token.`,
		Example: `  muster server
  MUSTER_TOKEN=... muster server --listen 10.0.0.5:4747 --nats-listen 10.0.0.5:4222 \
    --tls-cert cp.pem --tls-key cp-key.pem --tls-ca ca.pem
  MUSTER_TOKEN=... muster server --nats nats://nats-1:4222,nats://nats-2:4222 --listen 10.0.0.5:4747 \
    --tls-cert cp.pem --tls-key cp-key.pem`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return serveControlPlane(c, &sf, nil, listen, natsListen, ttl, leaseTTL, "server")
		},
	}
	registerServe(c, &sf, &listen, &natsListen, &ttl, &leaseTTL)
	return c
}

func registerServe(c *cobra.Command, sf *stateFlags, listen, natsListen *string, ttl, leaseTTL *time.Duration) {
	registerLogLevel(c)
	c.Flags().StringVar(&sf.nats, "nats", os.Getenv("MUSTER_NATS_URL"), "keep the state in an external NATS server with JetStream instead of the state directory (MUSTER_NATS_URL); control planes sharing it take turns leading")
	replicas, err := strconv.Atoi(envOr("MUSTER_REPLICAS", "0"))
	if err != nil {
		replicas = -1 // refused when the server starts
	}
	c.Flags().IntVar(&sf.replicas, "replicas", replicas, "with --nats: copies of every bucket and stream the NATS cluster keeps, raised where fewer (MUSTER_REPLICAS; 0: 3, or as many JetStream servers as there are when fewer)")
	c.Flags().DurationVar(leaseTTL, "lease-ttl", 15*time.Second, "with --nats: how long the leading control plane may go silent before another takes over")
	c.Flags().DurationVar(ttl, "node-ttl", 3*heartbeat, "how long a node agent may go without a heartbeat before its executions are replaced")
	c.Flags().StringVar(&sf.dir, "state-dir", envOr("MUSTER_STATE_DIR", ".muster"), "state directory to hold (MUSTER_STATE_DIR)")
	c.Flags().StringVar(listen, "listen", envOr("MUSTER_LISTEN", defaultListen), "`host:port` of the HTTP API (MUSTER_LISTEN)")
	c.Flags().StringVar(natsListen, "nats-listen", "", "`host:port` where node agents reach the NATS server (default: the API host, a free port)")
	registerServeTLS(c, sf)
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

// serveControlPlane runs `muster dev` (nf set: with the local node) or
// `muster server` until interrupted.
// termStore is the store the leading controller writes through (fenced by
// its lease over a shared NATS server), so that what its runners write for
// it is fenced too; st when it has none.
func termStore(ctl *apply.Controller, st *state.Store) *state.Store {
	if ts, ok := ctl.TermStore().(*state.Store); ok {
		return ts
	}
	return st
}

func serveControlPlane(c *cobra.Command, sf *stateFlags, nf *nodeFlags, listen, natsListen string, ttl, leaseTTL time.Duration, mode string) error {
	if ttl <= 0 || leaseTTL <= 0 {
		return fmt.Errorf("--node-ttl %s, --lease-ttl %s: want positive durations", ttl, leaseTTL)
	}
	token := os.Getenv("MUSTER_TOKEN")
	if err := sf.loadServerTLS(listen, natsListen, token); err != nil {
		return err
	}
	maxOutput, err := outputLimit(c)
	if err != nil {
		return err
	}
	ports, err := portRange(c)
	if err != nil {
		return err
	}
	limits := nodeLimits{maxOutput: maxOutput, ports: ports}
	if nf != nil {
		// --cpus and --memory are checked before anything starts.
		if _, err := nf.capacity(); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := c.OutOrStdout()
	external := sf.nats != ""
	localToken := ""
	if token == "" && !external {
		if localToken, err = newLocalToken(); err != nil {
			return err
		}
		token = localToken
	}

	if rec, ok := readDevRecord(sf.dir); ok && !external && processAlive(rec.PID) && rec.PID != os.Getpid() {
		// A record left by a control plane that died is no reason to
		// refuse (its pid may be another process's now): only one that
		// answers is. The directory lock decides the rest.
		if p, err := dial(ctx, rec.Addr, rec.ca(sf.tlsCA), filepath.Join(sf.dir, devFile), rec.token()); err == nil {
			p.Close()
			return fmt.Errorf("a control plane (pid %d) already serves %s at %s", rec.PID, sf.dir, rec.Addr)
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("--listen %s is taken (another muster dev or server?): pick another address, such as --listen 127.0.0.1:0 for any free port", listen)
		}
		return fmt.Errorf("--listen: %w", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	if sf.serverTLS != nil {
		ln = tls.NewListener(ln, sf.serverTLS)
	}
	st, info, err := openControlStore(ctx, sf, listen, natsListen, token)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := useSecretKey(st, sf.dir, external); err != nil {
		return err
	}
	info.Mode = mode
	log := logger(c, mode)
	st.SetLogger(log)

	// The API answers from now on: 503 until the control plane is set up.
	srv := startAPI(ctx, ln)
	defer srv.stop()

	runners := &apply.Runners{}
	localNote := ""
	if nf != nil {
		n, err := serveLocalNode(ctx, st, sf.dir, nf, runners, limits, log)
		if err != nil {
			return err
		}
		info.Nodes = []string{n.ID}
		localNote = n.ID + " (" + n.Capacity.String() + ")"
		if nf.capacityNote != "" {
			localNote += "\n  note: " + nf.capacityNote
		}
	}
	// A remote execution whose agent stops answering is lost within about
	// the node TTL.
	var ctl *apply.Controller
	ctl = &apply.Controller{Store: st, Runners: runners, NodeTTL: ttl, Log: log, Reconnected: st.ReconnectedAt,
		Connect: func(n state.Node) apply.Runner {
			return &remote.Client{NodeID: n.ID, NC: st.Conn(), Store: termStore(ctl, st), Ping: ttl / 3, Reconnect: ttl}
		}}
	stoodBy := false // Lead and OnLead run in the controller's goroutine
	if external {
		// Over a shared NATS server, one control plane leads at a time.
		ctl.Leadership = &apply.LeaseLeadership{Store: st, Holder: leaseHolder(addr), TTL: leaseTTL, Log: ctl.Log,
			Standby: func(holder string) {
				stoodBy = true
				fmt.Fprintf(w, "muster %s: standing by: the control plane at %s leads\n", mode, holder)
			}}
	}
	// Every control plane records the executions of node agents whose
	// credentials may not write them.
	gw, err := remote.ServeGateway(st.Conn(), st)
	if err != nil {
		return fmt.Errorf("serve the node agents: %w", err)
	}
	defer gw.Unsubscribe()
	cp := newControlPlane(ctl, st, info)
	// Every control plane serves the whole API, leading or not.
	m := metrics.New(st, log)
	apiHandler := api.NewServer(st, cp, token, api.WithMetrics(m.Handler()), api.WithInstrumentation(m.Instrument),
		api.WithNodeUsage(nodeUsage(st)))
	srv.serve(api.Logged(withUI(apiHandler), ctl.Log))
	if external {
		printBanner(w, mode, addr, sf, info, localNote, "")
	}
	var terms int
	var relay *nats.Subscription
	ctl.OnLead = func(leading bool, why error) {
		cp.setLeading(leading)
		if !leading {
			if relay != nil {
				relay.Unsubscribe()
			}
			fmt.Fprintf(w, "muster %s: %v; standing by, leaving every execution running for the control plane that leads now\n", mode, why)
			return
		}
		var err error
		if relay, err = api.ServeRelay(st.Conn(), cp); err != nil {
			fmt.Fprintf(w, "muster %s: cannot answer the other control planes' requests: %v\n", mode, err)
		}
		switch terms++; {
		case terms > 1 || stoodBy:
			fmt.Fprintf(w, "muster %s: now leading\n", mode)
		case external:
			fmt.Fprintf(w, "muster %s: leading: this control plane drives the rollouts\n", mode)
		}
		if terms > 1 || external {
			return
		}
		if err := writeDevRecord(sf.dir, sf.apiURL(localAddr(addr)), sf.recordedCA(), localToken); err != nil {
			fmt.Fprintf(w, "muster %s: cannot record its address in %s: %v\n", mode, sf.dir, err)
		}
		login := ""
		if mode == "dev" {
			login = localToken
		}
		printBanner(w, mode, addr, sf, info, localNote, login)
	}
	if events, err := ctl.Events(ctx, "", ""); err == nil {
		go logEvents(w, events)
	}
	ctlCtx, stopCtl := context.WithCancel(ctx)
	defer stopCtl()
	ctlDone := make(chan error, 1)
	go func() { ctlDone <- ctl.Run(ctlCtx) }()
	if !external {
		defer os.Remove(filepath.Join(sf.dir, devFile))
	}

	var failure error
	select {
	case <-ctx.Done():
	case err := <-srv.done:
		failure = fmt.Errorf("API server: %w", err)
	case err := <-ctlDone:
		return err
	}
	fmt.Fprintf(w, "muster %s: stopping the executions it runs (those of node agents keep running)\n", mode)
	srv.stop()
	stopCtl()
	if err := <-ctlDone; err != nil && failure == nil {
		failure = err
	}
	for _, id := range info.Nodes {
		// Its own node runs nothing once it is gone.
		markDown(w, st, id)
	}
	return failure
}

// markDown records node id as down, saying so on w when it cannot.
func markDown(w io.Writer, st *state.Store, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	n, err := st.Node(ctx, id)
	if err == nil {
		n.Status = state.NodeDown
		_, err = st.PutNode(ctx, n)
	}
	if err != nil {
		fmt.Fprintf(w, "muster: node %s could not be recorded down: %v\n", id, err)
	}
}

// serveLocalNode runs the local node's agent in this process (dev), within
// limits, and keeps the node alive, advertising its capacity; it returns
// the node.
func serveLocalNode(ctx context.Context, st *state.Store, dir string, nf *nodeFlags, runners *apply.Runners, limits nodeLimits, log *slog.Logger) (state.Node, error) {
	n, err := nf.localNode()
	if err != nil {
		return n, err
	}
	agent, err := localAgent(st, dir, n.ID, limits)
	if err != nil {
		return n, err
	}
	agent.Log = log
	runners.Set(n.ID, agent)
	if err := beat(ctx, st, n); err != nil {
		return n, err
	}
	go keepAlive(ctx, log, st, n, heartbeat)
	return n, nil
}

// logEvents prints what the control plane does, a line each, until the
// channel closes: rollouts, their ends, nodes joining and leaving, and the
// executions that fail or restart (not every start and end: a rollout of
// thousands would drown the rest).
func logEvents(w io.Writer, events <-chan apply.Event) {
	for ev := range events {
		switch ev.Kind {
		case apply.ExecutionEvent:
			switch ev.State {
			case string(state.ComputeFailed), string(state.ComputeLost), "unhealthy":
			default:
				if ev.Phase != "unhealthy" && ev.Phase != "restarting" && !strings.HasPrefix(ev.Message, "re-attached") {
					continue
				}
			}
		case apply.WaveStarted, apply.Health:
			continue
		case apply.Finished:
			// The events before it said how it ended, except for these.
			if ev.State != string(state.StateFailed) && ev.State != string(state.StateStopped) {
				continue
			}
		case apply.RolloutStarted:
			ev.Message = "rolling out: " + ev.Message
		}
		who := ev.Job
		if ev.Version > 0 {
			who += fmt.Sprintf(" v%d", ev.Version)
		}
		if ev.Execution != "" {
			who += " " + ev.Execution
		}
		if ev.Node != "" && ev.Kind != apply.NodeEvent {
			who += " on " + ev.Node
		}
		msg := ev.Message
		if msg == "" {
			msg = ev.State
		} else if ev.Kind == apply.ExecutionEvent && ev.State != "" {
			msg = ev.State + ": " + msg
		}
		if who != "" {
			who += ": "
		}
		fmt.Fprintf(w, "%s %s%s\n", ev.Time.Local().Format("15:04:05"), who, msg)
	}
}

// nodeUsage reads what the executions of every job hold on their nodes,
// for GET /v1/nodes; the specs' resources are kept between requests.
func nodeUsage(st *state.Store) api.NodeUsage {
	specs := &apply.SpecResources{}
	return func(ctx context.Context) (func(string) plan.Resources, error) {
		load, err := apply.NodeLoad(ctx, st, specs)
		if err != nil {
			return nil, fmt.Errorf("reading what the nodes hold: %w", err)
		}
		return load.Total, nil
	}
}

// printBanner says where a control plane serves and how to reach it, and
// describes its local node (local, "" when it has none).
//
// Under `muster dev`, whose token was made for this run (login, else ""),
// the web UI's address is a link that logs the browser in, as notebook
// servers print theirs: the token dies with the run, and the terminal is
// the user's own.
func printBanner(w io.Writer, mode, addr string, sf *stateFlags, info api.Info, localNode, login string) {
	join, env := addr, "MUSTER_ADDR="+addr
	if ca := sf.caHint(); ca != "" {
		// A certificate lists no unspecified address: name loopback.
		u := sf.apiURL(localAddr(addr))
		join, env = u+" --tls-ca "+ca, "MUSTER_ADDR="+u+" MUSTER_TLS_CA="+ca
	}
	where, reach := "state in "+sf.dir, "--state-dir "+sf.dir
	if sf.nats != "" {
		where, reach = "state in NATS at "+withoutUserinfo(sf.nats), "--addr "+join
	}
	fmt.Fprintf(w, "muster %s: API on %s (%s)\n", mode, sf.apiURL(addr), where)
	if login != "" {
		fmt.Fprintf(w, "  web UI: %s/ui/?token=%s (the link logs your browser in)\n", sf.apiURL(localAddr(addr)), url.QueryEscape(login))
	} else {
		fmt.Fprintf(w, "  web UI: %s/ui/\n", sf.apiURL(localAddr(addr)))
	}
	if sf.cluster != nil {
		fmt.Fprintf(w, "  %s\n", sf.cluster)
	}
	if localNode != "" {
		fmt.Fprintf(w, "  local node: %s\n", localNode)
	}
	fmt.Fprintf(w, "  node agents join with: muster agent --server %s\n", join)
	local := sf.nats == "" && os.Getenv("MUSTER_TOKEN") == ""
	if local {
		// The address alone is not enough: the token is in the directory.
		if abs, err := filepath.Abs(sf.dir); err == nil {
			env = "MUSTER_STATE_DIR=" + abs
		}
	}
	fmt.Fprintf(w, "  commands reach it with %s, or %s\n", reach, env)
	if local {
		fmt.Fprintf(w, "  API token: made for this run and kept in %s, readable by you only; your commands and agents find it there\n",
			filepath.Join(sf.dir, devFile))
	}
}

// openControlStore opens the state a control plane serves: the embedded
// NATS server of the state directory (with a listener for agents), or the
// external one of --nats.
func openControlStore(ctx context.Context, sf *stateFlags, listen, natsListen, token string) (*state.Store, api.Info, error) {
	info := api.Info{APIVersion: api.Version, PID: os.Getpid()}
	if sf.nats != "" {
		opts, err := withNATSTLS([]nats.Option{nats.MaxReconnects(-1), nats.ReconnectWait(natsReconnectWait),
			nats.PingInterval(natsPing), nats.MaxPingsOutstanding(natsPingsOut)}, sf.tlsCA)
		if err != nil {
			return nil, info, err
		}
		st, err := state.Connect(ctx, sf.nats, opts...)
		if err != nil {
			return nil, info, err
		}
		cluster, err := st.UseReplicas(ctx, sf.replicas)
		if err != nil {
			st.Close()
			return nil, info, fmt.Errorf("--replicas (MUSTER_REPLICAS=%q): %w", os.Getenv("MUSTER_REPLICAS"), err)
		}
		sf.cluster = &cluster
		info.NATSURL = withoutUserinfo(sf.nats)
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
	st, err := state.Open(ctx, sf.dir, sf.withLock(state.Options{Listen: natsListen, Token: token, TLS: sf.serverTLS}))
	if err != nil {
		return nil, info, err
	}
	saveNATSPort(sf.dir, st.ClientURL())
	info.NATSURL, info.NodeCredentials = st.ClientURL(), true
	if abs, err := filepath.Abs(sf.dir); err == nil {
		info.StateDir = abs
	}
	return st, info, nil
}

// leaseHolder names this control plane to the others: its API address,
// host and pid, and a random suffix, since two containers may well have
// the same listen address, host name and pid.
func leaseHolder(addr string) string {
	host, _ := os.Hostname()
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s on %s (pid %d, %x)", addr, host, os.Getpid(), b)
}

// withoutUserinfo drops the credentials from NATS URLs (a comma-separated
// list): the API tells agents where NATS is, never how the control plane
// logs in.
func withoutUserinfo(urls string) string {
	parts := strings.Split(urls, ",")
	for i, one := range parts {
		if u, err := url.Parse(strings.TrimSpace(one)); err == nil && u.User != nil {
			u.User = nil
			parts[i] = u.String()
		}
	}
	return strings.Join(parts, ",")
}

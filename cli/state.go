package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/apply"
	"github.com/muster-dev/muster/plan"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// stateFlags choose the control plane a command talks to: a running
// `muster dev` or `muster server` by its API address, the embedded one of
// a state directory (or the `muster dev` holding it), or an external NATS
// server.
type stateFlags struct {
	dir  string
	nats string
	addr string
	// tlsCA is the CA file that verifies a control plane over TLS
	// (--tls-ca); tlsCert and tlsKey what a control plane serves TLS with.
	tlsCA, tlsCert, tlsKey string
	// serverTLS is what a control plane serves the API and the NATS
	// listener with; nil: plain.
	serverTLS *tls.Config
	// allowDamaged opens a damaged state directory instead of refusing
	// it ('muster doctor').
	allowDamaged bool
	// readOnly marks a command that only reads: it does not create a state
	// directory that does not exist, and finds nothing stored instead
	// (see registerRead).
	readOnly bool
	// lockTimeout is how long the command waits for another process
	// holding the state directory (--lock-timeout).
	lockTimeout time.Duration
	// replicas is how many copies of the state an external NATS cluster
	// keeps (--replicas; 0 detects), and cluster what the control plane
	// found there, for its banner.
	replicas int
	cluster  *state.ClusterInfo
	// cmd is the command the flags belong to; it names this process in the
	// lock file and is where waiting is reported. Nil outside a command.
	cmd *cobra.Command
}

func (f *stateFlags) register(c *cobra.Command) {
	f.cmd = c
	c.Flags().StringVar(&f.dir, "state-dir", envOr("MUSTER_STATE_DIR", ".muster"), "state directory of the local control plane (MUSTER_STATE_DIR); a 'muster dev' holding it is reached through its API")
	c.Flags().StringVar(&f.addr, "addr", os.Getenv("MUSTER_ADDR"), "`host:port` of a running 'muster dev' or 'muster server' API, or a comma-separated list of a cluster's, tried in order (MUSTER_ADDR; MUSTER_TOKEN is its bearer token)")
	registerTLSCA(c, &f.tlsCA, "")
	c.Flags().StringVar(&f.nats, "nats", os.Getenv("MUSTER_NATS_URL"), "use an external NATS server with JetStream instead of the state directory (MUSTER_NATS_URL)")
	c.Flags().DurationVar(&f.lockTimeout, "lock-timeout", lockWait, "how long to wait for another muster process that holds the state directory (0: fail at once)")
}

// registerRead registers the flags of a command that only reads the
// state: on a state directory that does not exist yet it creates nothing
// and finds nothing stored.
func (f *stateFlags) registerRead(c *cobra.Command) {
	f.readOnly = true
	f.register(c)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// lockWait is how long a command waits by default for another muster
// process that holds the state directory, so that concurrent commands take
// turns (--lock-timeout).
const lockWait = 30 * time.Second

// withLock adds to opts how this command takes the state directory's lock:
// how long it waits (--lock-timeout, or lockWait outside a command), what
// it records as the holder, and that it says at once, on stderr, whom it
// waits for.
func (f *stateFlags) withLock(opts state.Options) state.Options {
	wait, stderr := lockWait, io.Writer(os.Stderr)
	opts.Holder = holderName(os.Args)
	if f.cmd != nil {
		wait, stderr, opts.Holder = f.lockTimeout, f.cmd.ErrOrStderr(), f.cmd.CommandPath()
	}
	opts.LockWait = wait
	opts.OnLockWait = func(le *state.LockedError) {
		fmt.Fprintf(stderr, "waiting for %s to release %s (up to %s; --lock-timeout)\n", le.Holder(), le.Dir, wait)
	}
	return opts
}

// lockError adds to the error of a lock that could not be taken how long
// the command waited and how to wait longer.
func (f *stateFlags) lockError(err error) error {
	var le *state.LockedError
	if !errors.As(err, &le) {
		return err
	}
	wait := lockWait
	if f.cmd != nil {
		wait = f.lockTimeout
	}
	return fmt.Errorf("%w (waited %s; --lock-timeout waits longer)", err, wait)
}

// holderName names this process from its arguments, "muster dev" say:
// the program's base name and the first argument when it is a command.
func holderName(args []string) string {
	if len(args) == 0 {
		return ""
	}
	name := filepath.Base(args[0])
	if len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		name += " " + args[1]
	}
	return name
}

// openJob reads a job argument (NAME or NAMESPACE/NAME) and opens the
// control plane; the caller closes the store.
func (f *stateFlags) openJob(c *cobra.Command, arg string) (context.Context, *plane, string, string, error) {
	ns, name, err := splitJob(arg)
	if err != nil {
		return nil, nil, "", "", err
	}
	ctx := c.Context()
	st, err := f.open(ctx)
	return ctx, st, ns, name, err
}

// jobStatus reads a job's status, saying plainly when it was never applied.
func jobStatus(ctx context.Context, st api.Backend, ns, name string) (state.JobStatus, error) {
	js, err := st.Job(ctx, ns, name)
	if errors.Is(err, state.ErrNotFound) {
		return js, fmt.Errorf("job %s/%s was never applied", ns, name)
	}
	return js, err
}

// nodeFlags describe the local node, or name an inventory file to plan
// against instead of live nodes.
type nodeFlags struct {
	inventory string
	labels    []string
	config    string
	id        string
	// advertise is set on the commands that run a node for a control
	// plane (agent, dev): the node advertises its capacity, detected or
	// given with --cpus and --memory. The local node of the other
	// commands (a one-shot control plane in the command) advertises none.
	advertise   bool
	cpus, memMB string
	// capacityNote says what could not be detected, for the banner.
	capacityNote string
}

// registerCapacity adds --cpus and --memory to a command that runs a node
// for a control plane (agent, dev): the node then advertises a capacity.
func (f *nodeFlags) registerCapacity(c *cobra.Command) {
	f.advertise = true
	c.Flags().StringVar(&f.cpus, "cpus", os.Getenv("MUSTER_CPUS"), "cpus this node offers its executions, as task.resources.cpus writes them: `4`, 0.5 or 500m (MUSTER_CPUS; default: the cpus of the machine)")
	c.Flags().StringVar(&f.memMB, "memory", os.Getenv("MUSTER_MEMORY"), "memory this node offers its executions: `8G`, 512M, 4Gi (MUSTER_MEMORY; default: the memory of the machine, or of its cgroup when less)")
}

// capacity is what the node advertises: detected, then --cpus and
// --memory; nil for a node that advertises none.
func (f *nodeFlags) capacity() (*state.Capacity, error) {
	if !f.advertise {
		return nil, nil
	}
	c, note := state.DetectCapacity()
	if f.cpus != "" {
		v, err := state.ParseCapacityCPUs(f.cpus)
		if err != nil {
			return nil, fmt.Errorf("--cpus: %w", err)
		}
		c.CPUs = v
	}
	if f.memMB != "" {
		mb, err := state.ParseCapacityMemory(f.memMB)
		if err != nil {
			return nil, fmt.Errorf("--memory: %w", err)
		}
		c.MemoryMB, note = mb, ""
	}
	f.capacityNote = note
	return &c, nil
}

func (f *nodeFlags) register(c *cobra.Command, inventory bool) {
	if inventory {
		c.Flags().StringVar(&f.inventory, "nodes", "", "plan against a node inventory `file` ([{id, labels, cpus, memory}] in YAML or JSON) instead of live nodes")
	}
	c.Flags().StringArrayVar(&f.labels, "label", nil, "add a `key=value` label to the local node (repeatable)")
	c.Flags().StringVar(&f.config, "node-config", os.Getenv("MUSTER_NODE_CONFIG"), "YAML or JSON `file` {id, labels} describing the local node (MUSTER_NODE_CONFIG)")
	c.Flags().StringVar(&f.id, "node-id", "", "`id` of the local node (default: the node config's id, else the host name)")
}

// nodes returns the nodes to plan against and where they came from: the
// inventory file (with the capacity it gives, and no load), or the live
// nodes of the store after the local node has registered itself, with
// their capacity and, when any advertises one, the load of the executions
// placed on them.
func (f *nodeFlags) nodes(ctx context.Context, st *plane) ([]plan.Node, string, error) {
	var list []state.Node
	source := "live"
	if f.inventory != "" {
		inv, err := state.LoadInventory(f.inventory)
		if err != nil {
			return nil, "", err
		}
		list, source = inv, f.inventory
	} else {
		if st.store != nil {
			// This process is the control plane: its node is the local one.
			if err := f.registerLocal(ctx, st); err != nil {
				return nil, "", err
			}
		}
		live, err := st.Nodes(ctx)
		if err != nil {
			return nil, "", err
		}
		for _, n := range live {
			if n.Status != state.NodeDown { // a control plane lost its agent
				list = append(list, n)
			}
		}
	}
	var load apply.Load
	if source == "live" && apply.AnyCapacity(list) {
		var err error
		if load, err = apply.NodeLoad(ctx, st, nil); err != nil {
			return nil, "", fmt.Errorf("reading what the nodes hold: %w", err)
		}
	}
	out := make([]plan.Node, len(list))
	for i, n := range list {
		out[i] = apply.PlanNode(n, load)
	}
	return out, source, nil
}

// localNode describes the local node with its labels.
func (f *nodeFlags) localNode() (state.Node, error) {
	extra := map[string]string{}
	for _, kv := range f.labels {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return state.Node{}, fmt.Errorf("--label %q: want key=value", kv)
		}
		extra[k] = v
	}
	n, err := state.LocalNode(f.config, extra)
	if err != nil {
		return n, err
	}
	if n.Capacity, err = f.capacity(); err != nil {
		return state.Node{}, err
	}
	if f.id == "" {
		return n, nil
	}
	if err := state.CheckNodeID(f.id); err != nil {
		return state.Node{}, fmt.Errorf("--node-id: %w", err)
	}
	n.ID = f.id
	return n, nil
}

// registerLocal records the local node with its labels.
func (f *nodeFlags) registerLocal(ctx context.Context, st api.Backend) error {
	n, err := f.localNode()
	if err != nil {
		return err
	}
	n.LastSeen = time.Now().UTC()
	_, err = st.PutNode(ctx, n)
	return err
}

// stateReader adapts a store to what plan reads.
type stateReader struct{ st api.Backend }

func (r stateReader) Current(ctx context.Context, ns, name string) (*plan.Current, error) {
	js, err := r.st.Job(ctx, ns, name)
	if errors.Is(err, state.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	spec, err := r.st.Spec(ctx, js.Hash)
	if err != nil {
		return nil, fmt.Errorf("the spec %s of %s/%s version %d: %w", js.Hash, ns, name, js.Version, err)
	}
	return &plan.Current{Version: js.Version, Hash: js.Hash, Revision: js.Revision, Spec: spec}, nil
}

// SensitivePaths makes a stateReader a plan.SensitiveState: plans hide the
// values recorded sensitive for the stored specs.
func (r stateReader) SensitivePaths(ctx context.Context, hash string) ([]string, error) {
	return r.st.SensitivePaths(ctx, hash)
}

// SecretNames makes a stateReader a plan.SecretState: plans warn of the
// secrets a job refers to that are not stored.
func (r stateReader) SecretNames(ctx context.Context, ns string) ([]string, error) {
	ss, ok := r.st.(api.SecretStore)
	if !ok {
		return nil, nil
	}
	list, err := ss.Secrets(ctx, ns)
	names := make([]string, len(list))
	for i, s := range list {
		names[i] = s.Name
	}
	return names, err
}

// splitJob reads a job argument: "name" (namespace default) or "ns/name".
func splitJob(arg string) (ns, name string, err error) {
	ns, name, ok := strings.Cut(arg, "/")
	if !ok {
		ns, name = "default", arg
	}
	if ns == "" || name == "" || strings.ContainsAny(name, "/@") {
		return "", "", fmt.Errorf("%q: want a job as NAME or NAMESPACE/NAME", arg)
	}
	return ns, name, nil
}

// plan plans jobs against the nodes the flags choose, noting the stopped
// jobs that applying would start again.
func (f *nodeFlags) plan(ctx context.Context, st *plane, jobs []*schema.Job) (*plan.Plan, error) {
	desired := make([]plan.Desired, len(jobs))
	for i, j := range jobs {
		desired[i].Job = j
	}
	return f.planDesired(ctx, st, desired)
}

// planDesired is plan for compiled jobs, whose sensitive values it hides.
func (f *nodeFlags) planDesired(ctx context.Context, st *plane, jobs []plan.Desired) (*plan.Plan, error) {
	nodes, source, err := f.nodes(ctx, st)
	if err != nil {
		return nil, err
	}
	p, err := plan.MakeDesired(ctx, stateReader{st}, jobs, nodes, source)
	if err != nil {
		return nil, err
	}
	noteActions(ctx, st, p)
	return p, nil
}

// noteActions warns, on the jobs of p that do not change, when applying
// acts on them all the same (see applyActs).
func noteActions(ctx context.Context, st *plane, p *plan.Plan) {
	for i := range p.Jobs {
		if why := applyActs(ctx, st, p.Jobs[i]); why != "" {
			p.Jobs[i].Warnings = append(p.Jobs[i].Warnings, why)
		}
	}
}

// applyActs says what applying does to a job of a plan whose spec does not
// change, or "" when it does nothing: a stopped job is started again, and,
// where this process runs the rollouts (no control plane), a rollout of a
// batch or ops job left unfinished (pending, deploying, or queued for room
// on a node) is resumed. A running control plane resumes and places its
// own rollouts. It follows what record in apply.go does.
func applyActs(ctx context.Context, st *plane, j plan.JobPlan) string {
	if j.Action != plan.NoOp {
		return ""
	}
	js, err := st.Job(ctx, j.Namespace, j.Name)
	if err != nil {
		return ""
	}
	spec, err := specFromCanonical(j.Spec)
	if err != nil {
		return ""
	}
	_, note := apply.WhenUnchanged(js, spec.Type.LongRunning(), st.ctl == nil)
	return note
}

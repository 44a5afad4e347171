package docker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/moby/moby/client"

	"github.com/muster-dev/muster/runner"
)

// Name is the task.engine value the driver serves.
const Name = "docker"

// connectTimeout bounds the first contact with the engine.
const connectTimeout = 10 * time.Second

func init() {
	// init cannot fail, so the registered driver connects lazily: its first
	// Start or Recover reaches the engine, and reports a clear error if it
	// cannot (and tries again on the next call).
	runner.Register(&Driver{})
}

var _ runner.Driver = (*Driver)(nil)

// Options configure a Driver. The zero Options use the engine of the
// environment (DOCKER_HOST, DOCKER_API_VERSION, DOCKER_CERT_PATH,
// DOCKER_TLS_VERIFY, else the platform's default socket) and remove
// containers once they ended.
type Options struct {
	// Host is the engine address ("unix:///var/run/docker.sock",
	// "tcp://host:2376"); empty means the environment's.
	Host string
	// KeepContainers leaves a container in place after it ended, for
	// inspection, instead of removing it. A kept container still holds the
	// execution's name, so the same execution cannot be started again
	// until it is removed; Recover reports its exit code.
	KeepContainers bool
	// Client, if set, is used instead of a client built from Host and the
	// environment. The driver does not close it.
	Client *client.Client
}

// Driver runs executions as containers of one Docker Engine. The zero Driver
// is usable: it connects to the environment's engine on first use, which is
// what the driver registered under "docker" does. A Driver is safe for
// concurrent use. Close detaches it from its containers without stopping
// them.
type Driver struct {
	opts Options

	mu      sync.Mutex
	cli     *client.Client
	ownsCli bool
	ncpu    int                // the engine's CPU count; 0 when unknown
	handles map[string]*handle // live handles by execution id
	bg      context.Context    // background work of handles; done after Close
	stop    context.CancelFunc
	closed  bool
	wg      sync.WaitGroup
}

// New returns a driver connected to the engine opts name (API version
// negotiated). It fails with "docker engine not reachable at <host>: ..." if
// no engine answers.
func New(opts Options) (*Driver, error) {
	d := &Driver{opts: opts}
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	if _, err := d.client(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// Name returns "docker".
func (d *Driver) Name() string { return Name }

// Limits says what the driver enforces of task.resources.
func (d *Driver) Limits() string { return "cpus and memory enforced by the Docker Engine" }

// Client returns the engine client, connecting first if needed.
func (d *Driver) Client(ctx context.Context) (*client.Client, error) { return d.client(ctx) }

// errClosed is returned by a closed driver.
var errClosed = errors.New("docker driver is closed")

// client returns the connected client, connecting on first use. A failed
// connection is not remembered: the next call tries again.
func (d *Driver) client(ctx context.Context) (*client.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errClosed
	}
	if d.cli != nil {
		return d.cli, nil
	}
	cli, owns := d.opts.Client, false
	if cli == nil {
		ops := []client.Opt{client.FromEnv}
		if d.opts.Host != "" {
			ops = append(ops, client.WithHost(d.opts.Host))
		}
		var err error
		if cli, err = client.New(ops...); err != nil {
			return nil, fmt.Errorf("docker engine client: %w", err)
		}
		owns = true
	}
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if _, err := cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		if owns {
			cli.Close()
		}
		return nil, fmt.Errorf("docker engine not reachable at %s: %w", cli.DaemonHost(), err)
	}
	if info, err := cli.Info(pctx, client.InfoOptions{}); err == nil {
		d.ncpu = info.Info.NCPU
	}
	d.cli, d.ownsCli = cli, owns
	d.bg, d.stop = context.WithCancel(context.Background())
	d.handles = map[string]*handle{}
	return cli, nil
}

// Close detaches the driver from the engine, as a control plane that goes
// away does: containers keep running, handles stop following them (their
// Wait returns an error) and nothing is removed. Recover on another Driver
// finds them again. Close is idempotent; a closed driver starts nothing.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	stop, cli, owns := d.stop, d.cli, d.ownsCli
	d.mu.Unlock()
	if stop != nil {
		stop()
	}
	d.wg.Wait()
	if cli != nil && owns {
		return cli.Close()
	}
	return nil
}

// track registers a live handle and starts its monitor; it fails if the
// driver was closed meanwhile.
func (d *Driver) track(h *handle, since string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errClosed
	}
	d.handles[h.execID] = h
	d.wg.Add(2)
	lctx, cancel := context.WithCancel(d.bg)
	h.logStop = cancel
	go h.followLogs(lctx, since)
	go h.monitor(d.bg)
	return nil
}

// live returns the live handle of an execution, if this driver has one.
func (d *Driver) live(execID string) *handle {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.handles[execID]
}

// untrack forgets a handle whose container ended.
func (d *Driver) untrack(h *handle) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.handles[h.execID] == h {
		delete(d.handles, h.execID)
	}
}

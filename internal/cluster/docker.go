package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner/docker/dockertest"
)

// dockerTimeout bounds one docker command: a stop waits up to its grace
// period, a build for minutes.
const dockerTimeout = 5 * time.Minute

// docker runs the docker CLI with args and returns its trimmed stdout; the
// error holds stderr.
func docker(args ...string) (string, error) { return dockerEnv(nil, args...) }

func dockerEnv(env []string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("docker %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(stdout.String()), nil
}

// RequireDocker skips t when no Docker Engine answers `docker info`, or
// fails it when MUSTER_REQUIRE_DOCKER=1 (as .ci/run sets where an engine
// answers), so that CI cannot skip the cluster tests silently.
func RequireDocker(t testing.TB) {
	t.Helper()
	if _, err := docker("info", "--format", "{{.ServerVersion}}"); err != nil {
		if dockertest.Required() {
			t.Fatalf("%v (%s=1 requires an engine)", err, dockertest.RequireEnv)
		}
		t.Skipf("no Docker Engine: %v", err)
	}
}

// Container is one container of a cluster, on its private network under
// an alias (n1, cp1, a1...) that the others reach it by.
type Container struct {
	// Alias is the name the other containers reach it by.
	Alias string
	// Name is the container's engine-wide name: the cluster's prefix and
	// the alias.
	Name string

	c     *Cluster
	ports map[string]string

	mu      sync.Mutex
	down    bool // killed or stopped, and not started since
	paused  bool
	leading bool // by the last lead line of its log (control planes)
}

// Kill sends SIGKILL to the container: the process dies as in a crash, its
// file system stays for Start.
func (x *Container) Kill() { x.c.t.Helper(); x.c.must("kill", x.Name); x.setDown(true) }

// Stop stops the container (SIGTERM, then SIGKILL after 10s).
func (x *Container) Stop() { x.c.t.Helper(); x.c.must("stop", x.Name); x.setDown(true) }

// Start starts a stopped or killed container again, with its file system
// and network as they were.
func (x *Container) Start() { x.c.t.Helper(); x.c.must("start", x.Name); x.setDown(false) }

func (x *Container) setDown(down bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.down = down
	x.leading = false
}

// Down reports whether the container was killed or stopped and not
// started since.
func (x *Container) Down() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.down
}

// Lead lines a control plane prints: it leads from the first two on,
// stands by from the third on.
var (
	leadsLine   = regexp.MustCompile(`muster server: leading|now leading`)
	standbyLine = regexp.MustCompile(`standing by`)
)

// Leads reports whether control plane x says it leads: the last of the
// lines it printed about leading says so (it prints one each time it
// starts or stops leading), and it was not killed or stopped since. It
// reads the tail of the log, so it keeps what it last knew when the tail
// says nothing of leading.
func (x *Container) Leads() bool {
	if x.Down() {
		return false
	}
	out, err := combined("logs", "--tail", "50", x.Name)
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil || x.down {
		return x.leading && !x.down
	}
	lines := strings.Split(out, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if leadsLine.MatchString(lines[i]) {
			x.leading = true
			break
		}
		if standbyLine.MatchString(lines[i]) {
			x.leading = false
			break
		}
	}
	return x.leading
}

// Pause freezes every process of the container (the cgroup freezer: like
// SIGSTOP, which they cannot see); Unpause thaws them.
func (x *Container) Pause() { x.c.t.Helper(); x.c.must("pause", x.Name); x.setPaused(true) }

// Unpause thaws a paused container.
func (x *Container) Unpause() { x.c.t.Helper(); x.c.must("unpause", x.Name); x.setPaused(false) }

func (x *Container) setPaused(p bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.paused = p
}

// Paused reports whether the container is paused.
func (x *Container) Paused() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.paused
}

// Partition disconnects the container from the cluster's network: it keeps
// running but reaches nothing and nothing reaches it, until Heal.
func (x *Container) Partition() {
	x.c.t.Helper()
	x.c.must("network", "disconnect", x.c.Network, x.Name)
}

// Heal connects a partitioned container back under its alias.
func (x *Container) Heal() {
	x.c.t.Helper()
	x.c.must("network", "connect", "--alias", x.Alias, x.c.Network, x.Name)
	ports := make([]string, 0, len(x.ports))
	for p := range x.ports {
		ports = append(ports, p)
	}
	if err := x.lookPorts(ports); err != nil {
		x.c.t.Fatal(err)
	}
}

// Logs returns the container's stdout and stderr so far.
func (x *Container) Logs() string {
	out, err := combined("logs", "--timestamps", x.Name)
	if err != nil {
		return err.Error()
	}
	return out
}

// Processes counts the processes in the container whose command line
// contains match (as `docker top` lists them): what really runs there,
// whatever the state says.
func (x *Container) Processes(match string) (int, error) {
	out, err := docker("top", x.Name, "-o", "pid,args")
	if err != nil {
		// A stopped container runs nothing.
		if running, _ := docker("inspect", "--format", "{{.State.Running}}", x.Name); running == "false" {
			return 0, nil
		}
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(out, "\n")[1:] {
		if strings.Contains(line, match) {
			n++
		}
	}
	return n, nil
}

// HostPort returns the 127.0.0.1 address the container's port is published
// at on the host ("" if it publishes no such port). The engine picked it
// when the container was made; it stays across Stop and Start.
func (x *Container) HostPort(port string) string { return x.ports[port] }

// lookPorts records where the engine published each of ports.
func (x *Container) lookPorts(ports []string) error {
	x.ports = map[string]string{}
	for _, p := range ports {
		out, err := docker("port", x.Name, p+"/tcp")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "127.0.0.1:") {
				x.ports[p] = line
			}
		}
		if x.ports[p] == "" {
			return fmt.Errorf("container %s publishes %s at %q, not on 127.0.0.1", x.Name, p, out)
		}
	}
	return nil
}

// combined runs docker args and returns stdout and stderr together.
func combined(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dockerTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return string(out), err
}

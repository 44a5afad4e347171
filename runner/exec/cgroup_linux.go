package exec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/muster-dev/muster/schema"
)

// cgroupRoot is where the node's cgroup file system is mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupGroup is the cgroup, below the node's own, that holds one child
// cgroup per execution.
const cgroupGroup = "muster"

// detectCgroup finds the cgroup v2 directory under which executions get
// their cgroups, creating and configuring it, or says why there is none.
// root is the cgroup mount point and self the contents of /proc/self/cgroup.
func detectCgroup(root string, self []byte) (parent, reason string) {
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		if _, err := os.Stat(filepath.Join(root, "unified", "cgroup.controllers")); err == nil {
			return "", root + " is a hybrid cgroup v1/v2 mount: cpu and memory belong to the v1 hierarchies, not to cgroup v2"
		}
		return "", root + " is not a cgroup v2 mount (no cgroup.controllers)"
	}
	rel, ok := "", false
	for _, line := range strings.Split(string(self), "\n") {
		if p, found := strings.CutPrefix(line, "0::"); found {
			rel, ok = p, true
			break
		}
	}
	if !ok {
		return "", "the node process has no cgroup v2 path in /proc/self/cgroup"
	}
	return prepareParent(filepath.Join(root, rel))
}

// prepareParent makes dir/muster a cgroup whose children get the cpu and
// memory controllers, and returns it, or says why it cannot. dir must offer
// both controllers to its children already, or accept them being enabled
// (which cgroup v2 refuses while dir holds processes of its own, unless it
// is the root cgroup).
func prepareParent(dir string) (parent, reason string) {
	avail, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return "", fmt.Sprintf("reading %s/cgroup.controllers: %v", dir, err)
	}
	if !hasControllers(avail) {
		return "", fmt.Sprintf("the cpu and memory controllers are not delegated to %s (it has: %q)", dir, strings.TrimSpace(string(avail)))
	}
	if err := enableControllers(dir); err != nil {
		if errors.Is(err, syscall.EBUSY) {
			return "", fmt.Sprintf("cannot enable cpu and memory for the child cgroups of %s: it holds processes (run the node in a cgroup whose cgroup.subtree_control has cpu and memory, e.g. a systemd unit with Delegate=yes, or use NewCgroup)", dir)
		}
		return "", fmt.Sprintf("cannot enable cpu and memory for the child cgroups of %s: %v", dir, err)
	}
	parent = filepath.Join(dir, cgroupGroup)
	if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Sprintf("cannot create the cgroup %s: %v", parent, err)
	}
	if err := enableControllers(parent); err != nil {
		return "", fmt.Sprintf("cannot enable cpu and memory for the child cgroups of %s: %v", parent, err)
	}
	return parent, ""
}

// hasControllers reports whether a controller list names cpu and memory.
func hasControllers(list []byte) bool {
	var cpu, mem bool
	for _, c := range strings.Fields(string(list)) {
		cpu = cpu || c == "cpu"
		mem = mem || c == "memory"
	}
	return cpu && mem
}

// enableControllers makes cpu and memory available to dir's children.
func enableControllers(dir string) error {
	sub, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return err
	}
	if hasControllers(sub) {
		return nil
	}
	return writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+cpu +memory")
}

// writeFile writes a cgroup interface file, which exists already.
func writeFile(name, value string) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// cgroup is the cgroup of one execution.
type cgroup struct {
	dir string
	fd  *os.File // open until the process is started in it
}

// anonCgroups numbers the cgroups of executions without an id.
var anonCgroups atomic.Int64

// cpuPeriod is the cpu.max period, in microseconds.
const cpuPeriod = 100000

// newCgroup creates the cgroup of execution id under parent with the limits
// of res (a zero limit is left unlimited) and opens it for
// CLONE_INTO_CGROUP.
func newCgroup(parent, id string, res schema.Resources) (*cgroup, error) {
	name := safeName(id)
	if name == "" {
		// Execution ids are unique; a spec without one still gets a
		// cgroup of its own.
		name = fmt.Sprintf("anon-%d-%d", os.Getpid(), anonCgroups.Add(1))
	}
	dir := filepath.Join(parent, "exec-"+name)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("creating cgroup: %w", err)
	}
	c := &cgroup{dir: dir}
	if err := c.limit(res); err != nil {
		c.remove()
		return nil, err
	}
	fd, err := os.Open(dir)
	if err != nil {
		c.remove()
		return nil, fmt.Errorf("opening cgroup: %w", err)
	}
	c.fd = fd
	return c, nil
}

// limit writes the memory and cpu limits of res into the cgroup.
func (c *cgroup) limit(res schema.Resources) error {
	if res.Memory > 0 {
		if err := writeFile(filepath.Join(c.dir, "memory.max"), strconv.FormatInt(res.Memory.Bytes(), 10)); err != nil {
			return fmt.Errorf("setting memory.max: %w", err)
		}
		// Without swap the limit is the task's memory; a kernel without
		// swap accounting has no memory.swap.max, which is as good.
		if err := writeFile(filepath.Join(c.dir, "memory.swap.max"), "0"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("setting memory.swap.max: %w", err)
		}
		// An OOM kill ends the whole execution, not one random process.
		if err := writeFile(filepath.Join(c.dir, "memory.oom.group"), "1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("setting memory.oom.group: %w", err)
		}
	}
	if res.CPUs > 0 {
		quota := int64(math.Ceil(res.CPUs * cpuPeriod))
		if quota < 1000 {
			quota = 1000 // the kernel's smallest quota, 1ms
		}
		if err := writeFile(filepath.Join(c.dir, "cpu.max"), fmt.Sprintf("%d %d", quota, cpuPeriod)); err != nil {
			return fmt.Errorf("setting cpu.max: %w", err)
		}
	}
	return nil
}

// closeFD closes the directory descriptor once the process is in the cgroup.
func (c *cgroup) closeFD() {
	if c.fd != nil {
		c.fd.Close()
		c.fd = nil
	}
}

// oomKilled reports whether the kernel killed a process of the cgroup for
// going over memory.max.
func (c *cgroup) oomKilled() bool {
	b, err := os.ReadFile(filepath.Join(c.dir, "memory.events"))
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 && (f[0] == "oom_kill" || f[0] == "oom_group_kill") && f[1] != "0" {
			return true
		}
	}
	return false
}

// kill kills every process left in the cgroup, including those that left
// the process group.
func (c *cgroup) kill() {
	if writeFile(filepath.Join(c.dir, "cgroup.kill"), "1") == nil {
		return
	}
	// Kernels before 5.14 have no cgroup.kill.
	b, _ := os.ReadFile(filepath.Join(c.dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// remove deletes the cgroup, waiting a little for killed processes to be
// gone, and returns the last error.
func (c *cgroup) remove() error {
	c.closeFD()
	var err error
	for i := 0; i < 100; i++ {
		if err = os.Remove(c.dir); err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// safeName keeps an execution id usable as one path element.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == 0 {
			return '_'
		}
		return r
	}, id)
}

//go:build unix

package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"sync"

	"github.com/muster-dev/muster/runner"
)

// Driver runs exec tasks as processes on the node. Make one with New or
// NewCgroup; its fields must not change once it has started an execution.
type Driver struct {
	// Path is the PATH every task gets and bare program names are looked
	// up in: the node process's PATH when made by New.
	Path string

	cgroupDir string // the cgroup to put executions under; "" to detect
	once      sync.Once
	parent    string // where execution cgroups go; "" when not enforced
	reason    string // why limits are not enforced
}

var _ runner.Driver = (*Driver)(nil)

func init() { runner.Register(New()) }

// New returns a driver that finds on first use whether it can enforce
// limits: through a "muster" cgroup below the node process's own cgroup v2.
func New() *Driver {
	path := os.Getenv("PATH")
	if path == "" {
		path = defaultPath
	}
	return &Driver{Path: path}
}

// NewCgroup returns a driver that puts executions under dir/muster, dir
// being a cgroup v2 directory delegated to the node (one whose
// cgroup.subtree_control has, or accepts, cpu and memory: it must not hold
// processes itself unless it is the root cgroup).
func NewCgroup(dir string) *Driver {
	d := New()
	d.cgroupDir = dir
	return d
}

// Name is "exec".
func (d *Driver) Name() string { return "exec" }

func (d *Driver) detect() {
	d.once.Do(func() {
		if d.cgroupDir != "" {
			d.parent, d.reason = prepareParent(d.cgroupDir)
		} else {
			d.parent, d.reason = detectCgroup(cgroupRoot, readCgroupSelf())
		}
	})
}

// Limits says whether task.resources is enforced on this node, and why not.
func (d *Driver) Limits() string {
	d.detect()
	if d.parent == "" {
		return fmt.Sprintf("cpu and memory are not enforced: cgroup v2 is not writable here (%s)", d.reason)
	}
	return fmt.Sprintf("cpu and memory through cgroup v2 under %s: memory.max is task.resources.memory with no swap, and going over it kills the execution; cpu.max is task.resources.cpus per 100ms", d.parent)
}

// Enforced reports whether cpu and memory limits are enforced.
func (d *Driver) Enforced() bool {
	d.detect()
	return d.parent != ""
}

// Recover cannot re-attach: an exec process is not a child of a new node
// process, so it cannot be waited for. It kills what a killed node process
// left running of the execution (its process group, noted at Start) and
// returns an error wrapping runner.ErrNotRecoverable, so the caller replaces
// the execution without a duplicate running beside it.
func (d *Driver) Recover(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	return nil, killOrphans(spec.Root)
}

// Start starts the program of spec.Job.Task in its own process group (and
// cgroup where limits are enforced) and returns at once. The process does
// not depend on ctx: end it with Stop.
func (d *Driver) Start(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	if spec == nil || spec.Job == nil {
		return nil, errors.New("exec: no job in the spec")
	}
	task := &spec.Job.Task
	if len(task.Cmd) == 0 {
		return nil, errors.New("exec: task.cmd is empty")
	}
	if !filepath.IsAbs(spec.Root) {
		return nil, fmt.Errorf("exec: the execution root %q is not an absolute path", spec.Root)
	}
	dir, err := workdir(spec.Root, task.Workdir)
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	prog, err := lookPath(task.Cmd[0], d.Path)
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	h := &handle{done: make(chan struct{}), memory: task.Resources.Memory, dir: dir, path: d.Path}
	cmd := &osexec.Cmd{
		Path: prog,
		Args: task.Cmd,
		Dir:  dir,
		Env:  environ(spec.Env, d.Path, spec.Root),
	}
	h.env = cmd.Env
	var childEnds []*os.File
	defer func() {
		for _, f := range childEnds {
			f.Close()
		}
	}()
	if cmd.Stdout, err = h.output(spec.Stdout, &childEnds); err != nil {
		return nil, err
	}
	if sameWriter(spec.Stdout, spec.Stderr) {
		cmd.Stderr = cmd.Stdout
	} else if cmd.Stderr, err = h.output(spec.Stderr, &childEnds); err != nil {
		h.closeReaders()
		return nil, err
	}

	d.detect()
	if d.parent != "" {
		if h.cg, err = newCgroup(d.parent, spec.ExecutionID, task.Resources); err != nil {
			h.closeReaders()
			return nil, fmt.Errorf("exec: %w", err)
		}
	}
	cmd.SysProcAttr = sysProcAttr(h.cg)
	if err := cmd.Start(); err != nil {
		h.closeReaders()
		if h.cg != nil {
			h.cg.remove()
		}
		return nil, fmt.Errorf("exec: starting %s: %w", task.Cmd[0], err)
	}
	if h.cg != nil {
		h.cg.closeFD()
	}
	h.cmd, h.pgid = cmd, cmd.Process.Pid
	notePgid(spec.Root, h.pgid)
	h.root = spec.Root
	h.startCopies()
	go h.run()
	return h, nil
}

// workdir returns the task's working directory, root+task.workdir, made
// through an os.Root of root (so a link planted on the way cannot make the
// driver create directories outside it) and checked to be a directory
// inside root reached through no link at all.
func workdir(root, wd string) (string, error) {
	if wd == "" || wd == "/" {
		return root, nil
	}
	rel, err := runner.RelPath(wd)
	if err != nil {
		return "", fmt.Errorf("task.workdir: %w", err)
	}
	r, err := runner.OpenRoot(root)
	if err != nil {
		return "", err
	}
	defer r.Close()
	if err := r.MkdirAll(rel, 0o755); err != nil {
		return "", fmt.Errorf("creating task.workdir: %w", err)
	}
	if err := runner.RealDir(r, rel); err != nil {
		return "", fmt.Errorf("task.workdir: %w", err)
	}
	return filepath.Join(root, filepath.FromSlash(rel)), nil
}

// output returns what the process writes w through: w itself when it is a
// file, nothing (/dev/null) when nil, else the write end of a pipe whose
// read end the handle copies to w.
func (h *handle) output(w io.Writer, childEnds *[]*os.File) (io.Writer, error) {
	switch w := w.(type) {
	case nil:
		return nil, nil
	case *os.File:
		return w, nil
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("exec: %w", err)
	}
	*childEnds = append(*childEnds, pw)
	h.copies = append(h.copies, copyJob{r: r, w: w})
	return pw, nil
}

// sameWriter reports whether a and b are the same writer, so that stdout
// and stderr share one pipe and w sees no concurrent writes.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false // not comparable
		}
	}()
	return a != nil && a == b
}

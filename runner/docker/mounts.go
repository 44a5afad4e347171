package docker

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/moby/api/types/mount"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// mountPlan is how an execution's inputs and outputs reach its container;
// the package documentation states the rules.
type mountPlan struct {
	// outputDirs are the container directories mounted read-write from
	// Root+dir, outermost only, sorted.
	outputDirs []string
	// inputs are the input targets mounted from Root+target, sorted.
	inputs []inputMount
	// copyOut are the output paths in "/", copied out after the run.
	copyOut []string
}

// inputMount is one input target; rw when it is also an output in "/".
type inputMount struct {
	target string
	rw     bool
}

// planMounts applies the rules to the task's inputs and outputs. It does no
// I/O; paths must be absolute and clean (validate guarantees it).
func planMounts(inputs []schema.Input, outputs []schema.Output) (mountPlan, error) {
	var p mountPlan
	isOutput := map[string]bool{}
	var dirs []string
	for _, o := range outputs {
		if err := checkPath("output", o.Path); err != nil {
			return p, err
		}
		isOutput[o.Path] = true
		if dir := path.Dir(o.Path); dir != "/" {
			dirs = append(dirs, dir)
		}
	}
	isInput := map[string]bool{}
	for _, in := range inputs {
		isInput[in.Target] = true
	}
	for _, o := range outputs {
		// A root-level output that is also an input is mounted read-write
		// from Root+path: the file is already where it belongs.
		if path.Dir(o.Path) == "/" && !isInput[o.Path] {
			p.copyOut = append(p.copyOut, o.Path)
		}
	}
	sort.Strings(dirs)
	for _, dir := range dirs {
		if n := len(p.outputDirs); n > 0 && within(dir, p.outputDirs[n-1]) {
			continue // the same, or inside the previous outer directory
		}
		p.outputDirs = append(p.outputDirs, dir)
	}
	isDir := map[string]bool{}
	for _, d := range p.outputDirs {
		isDir[d] = true
	}
	for _, in := range inputs {
		if err := checkPath("input", in.Target); err != nil {
			return p, err
		}
		if in.Target == "/" {
			return p, fmt.Errorf("input target / cannot be mounted")
		}
		rw := false
		if isOutput[in.Target] {
			if path.Dir(in.Target) != "/" {
				continue // read-write through its output directory
			}
			rw = true
		} else if isDir[in.Target] {
			continue
		}
		p.inputs = append(p.inputs, inputMount{target: in.Target, rw: rw})
	}
	sort.Slice(p.inputs, func(i, j int) bool { return p.inputs[i].target < p.inputs[j].target })
	sort.Strings(p.copyOut)
	return p, nil
}

// checkPath refuses what is not an absolute, clean container path.
func checkPath(what, p string) error {
	if !path.IsAbs(p) || path.Clean(p) != p {
		return fmt.Errorf("%s %q: not an absolute, clean path", what, p)
	}
	return nil
}

// within reports whether p is dir or inside it (both clean and absolute).
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/") || dir == "/"
}

// hostPath is the node path of container path p under root.
func hostPath(root, p string) string {
	return filepath.Join(root, filepath.FromSlash(p))
}

// prepare creates the output directories under root and checks that every
// input is in place, and returns the engine's mounts. Everything goes
// through an os.Root of root, and a bind source is handed to the engine
// only once it is checked to be a real directory or file inside root,
// reached through no symbolic link (the engine resolves a source's links on
// the host).
func (p mountPlan) prepare(root string) ([]mount.Mount, error) {
	if len(p.outputDirs)+len(p.inputs)+len(p.copyOut) == 0 {
		return nil, nil
	}
	if root == "" {
		return nil, fmt.Errorf("execution root is empty but the task has inputs or outputs")
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	r, err := runner.OpenRoot(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var ms []mount.Mount
	for _, dir := range p.outputDirs {
		rel, err := runner.RelPath(dir)
		if err != nil {
			return nil, err
		}
		if err := r.MkdirAll(rel, 0o777); err != nil {
			return nil, fmt.Errorf("output directory %s: %w", dir, err)
		}
		if err := runner.RealDir(r, rel); err != nil {
			return nil, fmt.Errorf("output directory %s: %w", dir, err)
		}
		// MkdirAll honours the umask; open the directory up so that any
		// user of the image may write its outputs.
		if err := r.Chmod(rel, 0o777); err != nil {
			return nil, fmt.Errorf("output directory %s: %w", dir, err)
		}
		ms = append(ms, mount.Mount{Type: mount.TypeBind, Source: hostPath(root, dir), Target: dir})
	}
	for _, in := range p.inputs {
		rel, err := runner.RelPath(in.target)
		if err != nil {
			return nil, err
		}
		if err := realInput(r, rel); err != nil {
			return nil, fmt.Errorf("input %s is not in place at %s: %w", in.target, hostPath(root, in.target), err)
		}
		ms = append(ms, mount.Mount{Type: mount.TypeBind, Source: hostPath(root, in.target), Target: in.target, ReadOnly: !in.rw})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Target < ms[j].Target })
	return ms, nil
}

// realInput checks that an input target is a regular file or a directory
// (the outputs of a job) inside r, reached through no symbolic link.
func realInput(r *os.Root, rel string) error {
	fi, err := r.Lstat(rel)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return runner.RealDir(r, rel)
	}
	return runner.RealFile(r, rel)
}

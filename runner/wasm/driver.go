package wasm

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/muster-dev/muster/runner"
)

// Driver runs wasm tasks in one wazero runtime shared by its executions.
// Make one with New; set its fields before its first Start and leave them.
type Driver struct {
	// Resolve maps task.image to the path of the module file on the node.
	// The default, DefaultResolve, accepts absolute paths only.
	Resolve func(ctx context.Context, image string) (path string, err error)
	// CacheDir, when set, keeps wazero's compiled code on disk there, so a
	// new node process does not compile the same modules again. Empty
	// keeps it in memory.
	CacheDir string

	once    sync.Once
	rt      wazero.Runtime
	rtErr   error
	modules modules
}

var _ runner.Driver = (*Driver)(nil)

func init() { runner.Register(New()) }

// New returns a driver with DefaultResolve and an in-memory compilation
// cache. The runtime is made on the first Start.
func New() *Driver { return &Driver{Resolve: DefaultResolve} }

// DefaultResolve accepts an absolute path on the node and refuses the
// other forms of task.image, which the node fetches before Start.
func DefaultResolve(ctx context.Context, image string) (string, error) {
	switch {
	case filepath.IsAbs(image):
		return filepath.Clean(image), nil
	case strings.HasPrefix(image, "http://"), strings.HasPrefix(image, "https://"), strings.HasPrefix(image, "sha256:"):
		return "", fmt.Errorf("module %q: http(s) and sha256: modules are fetched by the node before Start (Driver.Resolve); this driver reads absolute paths only", image)
	default:
		return "", fmt.Errorf("module %q: task.image must be an absolute path on the node, an http(s):// URL or a sha256: document", image)
	}
}

// Name is "wasm".
func (d *Driver) Name() string { return "wasm" }

// Limits says what is enforced of task.resources.
func (d *Driver) Limits() string {
	return "memory: the module's linear memory cannot grow past task.resources.memory (at most 4G, the wasm32 maximum); cpu is not enforced"
}

// Recover returns runner.ErrNotRecoverable: modules run inside the node
// process and end with it.
func (d *Driver) Recover(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	return nil, runner.ErrNotRecoverable
}

// runtime returns the shared runtime, made on first use. It has no memory
// limit of its own (each execution has one) and closes a module when its
// context ends.
func (d *Driver) runtime() (wazero.Runtime, error) {
	d.once.Do(func() {
		ctx := context.Background()
		var cache wazero.CompilationCache
		if d.CacheDir != "" {
			if cache, d.rtErr = wazero.NewCompilationCacheWithDir(d.CacheDir); d.rtErr != nil {
				d.rtErr = fmt.Errorf("wasm: compilation cache: %w", d.rtErr)
				return
			}
		} else {
			cache = wazero.NewCompilationCache()
		}
		cfg := wazero.NewRuntimeConfig().
			WithCompilationCache(cache).
			WithCloseOnContextDone(true)
		rt := wazero.NewRuntimeWithConfig(ctx, cfg)
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
			rt.Close(ctx)
			d.rtErr = fmt.Errorf("wasm: instantiating WASI: %w", err)
			return
		}
		d.rt = rt
	})
	return d.rt, d.rtErr
}

// Start resolves the module, checks it is a file, and runs it in a
// goroutine: compiling (unless cached), instantiating and running _start.
// It returns at once; the run does not depend on ctx (end it with Stop).
func (d *Driver) Start(ctx context.Context, spec *runner.Spec) (runner.Handle, error) {
	if spec == nil || spec.Job == nil {
		return nil, errors.New("wasm: no job in the spec")
	}
	task := &spec.Job.Task
	if task.Image == "" {
		return nil, errors.New("wasm: task.image (the module) is empty")
	}
	if !filepath.IsAbs(spec.Root) {
		return nil, fmt.Errorf("wasm: the execution root %q is not an absolute path", spec.Root)
	}
	resolve := d.Resolve
	if resolve == nil {
		resolve = DefaultResolve
	}
	path, err := resolve(ctx, task.Image)
	if err != nil {
		return nil, fmt.Errorf("wasm: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("wasm: module: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("wasm: module %s is not a file", path)
	}
	rt, err := d.runtime()
	if err != nil {
		return nil, err
	}
	root, err := runner.OpenRoot(spec.Root)
	if err != nil {
		return nil, fmt.Errorf("wasm: %w", err)
	}
	pwd, err := workdir(root, task.Workdir)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("wasm: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h := &handle{cancel: cancel, done: make(chan struct{})}
	go h.run(runCtx, d, rt, path, fi, spec, root, pwd)
	return h, nil
}

// workdir creates task.workdir inside the root when it is set, and
// returns the directory the module starts in (PWD): workdir or "/".
func workdir(root *os.Root, wd string) (string, error) {
	if wd == "" || wd == "/" {
		return "/", nil
	}
	rel, err := runner.RelPath(wd)
	if err != nil {
		return "", fmt.Errorf("task.workdir: %w", err)
	}
	if err := root.MkdirAll(rel, 0o755); err != nil {
		return "", fmt.Errorf("creating task.workdir: %w", err)
	}
	return wd, nil
}

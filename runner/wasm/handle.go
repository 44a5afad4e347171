package wasm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/sys"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// pageSize is the size of a wasm memory page; maxMemory is the most a
// wasm32 memory can have, 65536 pages.
const (
	pageSize  = 65536
	maxMemory = 65536 * pageSize
)

// handle is one module run.
type handle struct {
	cancel context.CancelFunc
	done   chan struct{}
	res    runner.Result
}

var _ runner.Handle = (*handle)(nil)

// Wait blocks until the module ends or ctx is done.
func (h *handle) Wait(ctx context.Context) (runner.Result, error) {
	select {
	case <-h.done:
		return h.res, nil
	case <-ctx.Done():
		return runner.Result{}, ctx.Err()
	}
}

// Stop cancels the module's context, which ends it at once whatever it is
// doing (grace is not used: a module cannot catch a signal), and waits for
// it to be gone or ctx to end.
func (h *handle) Stop(ctx context.Context, grace time.Duration) error {
	h.cancel()
	select {
	case <-h.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// memoryLimit is the memory limit in bytes: task.resources.memory, or the
// wasm32 maximum when it is unset or larger, in whole pages.
func memoryLimit(m schema.Memory) uint64 {
	b := uint64(maxMemory)
	if m > 0 && uint64(m.Bytes()) < b {
		b = uint64(m.Bytes())
	}
	return b / pageSize * pageSize
}

// run compiles (or reuses) the module, instantiates it, which runs _start,
// and records how it ended.
func (h *handle) run(ctx context.Context, d *Driver, rt wazero.Runtime, path string, fi os.FileInfo, spec *runner.Spec, root *os.Root, pwd string) {
	defer close(h.done)
	defer h.cancel()
	defer root.Close()
	defer func() {
		if p := recover(); p != nil {
			h.res = runner.Result{ExitCode: -1, Message: fmt.Sprintf("wasm runtime panic: %v", p)}
		}
	}()
	task := &spec.Job.Task
	mem := task.Resources.Memory
	limit := memoryLimit(mem)

	m, err := d.modules.get(ctx, rt, path, fi)
	if err != nil {
		h.res = runner.Result{ExitCode: -1, Message: err.Error()}
		return
	}
	defer d.modules.put(m)
	if need := initialMemory(m.compiled); need > limit {
		h.res = runner.Result{ExitCode: -1, OOMKilled: true, Message: fmt.Sprintf("out of memory (limit %s): the module needs %s to start", limitText(mem, limit), mib(need))}
		return
	}

	alloc := &limitAllocator{limit: limit}
	cfg := moduleConfig(ctx, spec, root, pwd)
	mod, err := rt.InstantiateModule(experimental.WithMemoryAllocator(ctx, alloc), m.compiled, cfg)
	if mod != nil {
		mod.Close(context.Background())
	}
	h.res = result(err, ctx.Err() != nil, alloc.refused.Load(), limitText(mem, limit))
	if h.res.ExitCode == -1 && !h.res.OOMKilled && err != nil && ctx.Err() == nil && spec.Stderr != nil {
		// A trap: its wasm stack trace is for the task's log.
		fmt.Fprintln(spec.Stderr, err)
	}
}

// moduleConfig is what the module sees: the root as "/" (through a
// rootFS, which never follows a link out of it), args, env, logs, the
// node's clocks and crypto/rand.
func moduleConfig(ctx context.Context, spec *runner.Spec, root *os.Root, pwd string) wazero.ModuleConfig {
	task := &spec.Job.Task
	cfg := wazero.NewModuleConfig().
		WithName(""). // anonymous: executions of one module run side by side
		WithArgs(append([]string{task.Image}, task.Cmd...)...).
		WithFSConfig(wazero.NewFSConfig().(sysfs.FSConfig).WithSysFSMount(&rootFS{r: root}, "/")).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(func(ns int64) {
			// Sleep, but not past Stop.
			t := time.NewTimer(time.Duration(ns))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}).
		WithRandSource(rand.Reader)
	for _, kv := range environ(spec.Env, pwd) {
		cfg = cfg.WithEnv(kv[0], kv[1])
	}
	if spec.Stdout != nil {
		cfg = cfg.WithStdout(spec.Stdout)
	}
	if spec.Stderr != nil {
		cfg = cfg.WithStderr(spec.Stderr)
	}
	return cfg
}

// environ is Spec.Env, less any MUSTER_ROOT or PWD, plus MUSTER_ROOT=/ and
// PWD=pwd, sorted by name.
func environ(env map[string]string, pwd string) [][2]string {
	out := make([][2]string, 0, len(env)+2)
	for k, v := range env {
		if k == "MUSTER_ROOT" || k == "PWD" {
			continue
		}
		out = append(out, [2]string{k, v})
	}
	out = append(out, [2]string{"MUSTER_ROOT", "/"}, [2]string{"PWD", pwd})
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// initialMemory is the memory, in bytes, the module has when it starts.
func initialMemory(c wazero.CompiledModule) uint64 {
	var pages uint32
	for _, m := range c.ExportedMemories() {
		pages = max(pages, m.Min())
	}
	for _, m := range c.ImportedMemories() {
		pages = max(pages, m.Min())
	}
	return uint64(pages) * pageSize
}

// result says how the module ended: err from InstantiateModule, whether
// it was stopped, whether its memory hit the limit.
func result(err error, stopped, refused bool, limit string) runner.Result {
	var r runner.Result
	var exit *sys.ExitError
	switch {
	case err == nil:
		r.Message = "exited with code 0"
	case stopped:
		r.ExitCode, r.Message = -1, "stopped"
	case errors.As(err, &exit):
		r.ExitCode = int(exit.ExitCode())
		r.Message = fmt.Sprintf("exited with code %d", r.ExitCode)
	default:
		r.ExitCode = -1
		msg, _, _ := strings.Cut(err.Error(), "\n")
		r.Message = "trapped: " + strings.TrimPrefix(msg, "module[] function[_start] failed: ")
	}
	if refused && !r.Succeeded() && !stopped {
		r.OOMKilled = true
		r.Message = fmt.Sprintf("out of memory (limit %s)", limit)
	}
	return r
}

// limitText names the limit as the job does, or the wasm32 maximum.
func limitText(m schema.Memory, limit uint64) string {
	if m > 0 && uint64(m.Bytes()) <= limit {
		return m.String()
	}
	return mib(limit)
}

func mib(b uint64) string {
	return schema.Memory((b + 1<<20 - 1) >> 20).String()
}

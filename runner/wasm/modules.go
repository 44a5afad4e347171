package wasm

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
)

// maxModules bounds the compiled modules a driver keeps; past it, the
// least recently used one that no execution holds is closed.
const maxModules = 64

// modules keeps compiled modules by path, so that executions of the same
// module skip decoding and compiling it.
type modules struct {
	mu      sync.Mutex
	entries map[string]*module
}

// module is one compiled module file, or its compilation in progress.
type module struct {
	size  int64
	mtime time.Time

	ready    chan struct{} // closed once compiled and err are set
	compiled wazero.CompiledModule
	err      error

	users   int  // executions holding it; guarded by modules.mu
	evicted bool // no longer in entries: close when users drops to 0
	used    time.Time
}

// get returns the compiled module at path as fi describes it, compiling it
// when it is new or changed, and holds it until put.
func (ms *modules) get(ctx context.Context, rt wazero.Runtime, path string, fi os.FileInfo) (*module, error) {
	ms.mu.Lock()
	if ms.entries == nil {
		ms.entries = map[string]*module{}
	}
	m := ms.entries[path]
	if m != nil && (m.size != fi.Size() || !m.mtime.Equal(fi.ModTime())) {
		ms.evictLocked(path, m)
		m = nil
	}
	compile := m == nil
	if compile {
		m = &module{size: fi.Size(), mtime: fi.ModTime(), ready: make(chan struct{})}
		ms.entries[path] = m
		ms.trimLocked()
	}
	m.users++
	m.used = time.Now()
	ms.mu.Unlock()

	if compile {
		m.compiled, m.err = compileFile(ctx, rt, path)
		close(m.ready)
		if m.err != nil {
			ms.mu.Lock()
			if ms.entries[path] == m {
				delete(ms.entries, path) // try again next time
			}
			ms.mu.Unlock()
		}
	}
	<-m.ready
	if m.err != nil {
		ms.put(m)
		return nil, m.err
	}
	return m, nil
}

// put releases a module get returned.
func (ms *modules) put(m *module) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m.users--
	if m.evicted && m.users == 0 && m.compiled != nil {
		m.compiled.Close(context.Background())
	}
}

func (ms *modules) evictLocked(path string, m *module) {
	delete(ms.entries, path)
	m.evicted = true
	if m.users == 0 && m.compiled != nil {
		m.compiled.Close(context.Background())
	}
}

// trimLocked evicts the least recently used idle modules past maxModules.
func (ms *modules) trimLocked() {
	for len(ms.entries) > maxModules {
		var oldPath string
		var old *module
		for p, m := range ms.entries {
			if m.users == 0 && (old == nil || m.used.Before(old.used)) {
				oldPath, old = p, m
			}
		}
		if old == nil {
			return // all in use
		}
		ms.evictLocked(oldPath, old)
	}
}

func compileFile(ctx context.Context, rt wazero.Runtime, path string) (wazero.CompiledModule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the module: %w", err)
	}
	c, err := rt.CompileModule(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("compiling the module %s: %w", path, err)
	}
	return c, nil
}

package runner

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// Drivers is a set of drivers by name (their task.engine). An Agent runs
// each execution with the driver its Drivers holds for the job's engine,
// so two agents in one process may hold different drivers of one engine
// (a wasm driver resolving modules through its own node) without touching
// each other.
//
// A name is held by one driver: Register panics on a name already taken,
// since two drivers claiming one engine is a programming error (as Caddy's
// module registry treats a duplicate module). With makes a new set in
// which some drivers stand in for others of the same names, leaving the
// set it starts from as it was.
//
// The zero Drivers, and a nil *Drivers, hold nothing; a nil one may only
// be read. A Drivers is safe for concurrent use.
type Drivers struct {
	mu sync.RWMutex
	m  map[string]Driver
}

// defaults holds the drivers registered with Register, at init by the
// driver packages (exec, docker, wasm) a program imports.
var defaults Drivers

// NewDrivers returns a set holding ds. It panics when two of them share
// a name.
func NewDrivers(ds ...Driver) *Drivers {
	r := &Drivers{m: make(map[string]Driver, len(ds))}
	for _, d := range ds {
		r.Register(d)
	}
	return r
}

// Register adds d under its name. It panics when d is nil, its name is
// empty, or a driver already holds the name.
func (r *Drivers) Register(d Driver) {
	if d == nil {
		panic("runner: Register of a nil driver")
	}
	name := d.Name()
	if name == "" {
		panic(fmt.Sprintf("runner: Register of a driver (%T) without a name", d))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok := r.m[name]; ok {
		panic(fmt.Sprintf("runner: driver %q registered twice (%T, then %T)", name, prev, d))
	}
	if r.m == nil {
		r.m = map[string]Driver{}
	}
	r.m[name] = d
}

// Lookup returns the driver held under name.
func (r *Drivers) Lookup(name string) (Driver, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.m[name]
	return d, ok
}

// Names lists the names held, sorted.
func (r *Drivers) Names() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.m))
}

// With returns a new set holding the drivers of r, with each of ds in
// place of the driver of its name, if any. r is left as it was. It panics
// when two of ds share a name.
func (r *Drivers) With(ds ...Driver) *Drivers {
	out := NewDrivers(ds...)
	if r == nil {
		return out
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	for name, d := range r.m {
		if _, ok := out.m[name]; !ok {
			out.m[name] = d
		}
	}
	return out
}

// Register makes a driver available by its name to every agent that has
// no Drivers of its own. Driver packages call it from init. It panics when
// the name is taken: two drivers of one engine in a program is a
// programming error, found as the program starts. An agent that needs its
// own driver of an engine holds it in Agent.Drivers instead
// (DefaultDrivers().With(d)).
func Register(d Driver) { defaults.Register(d) }

// DefaultDrivers returns the drivers registered with Register, which an
// Agent without Drivers of its own uses.
func DefaultDrivers() *Drivers { return &defaults }

// Lookup returns the driver registered with Register under name.
func Lookup(name string) (Driver, bool) { return defaults.Lookup(name) }

// Names lists the drivers registered with Register, sorted.
func Names() []string { return defaults.Names() }

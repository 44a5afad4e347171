package runner

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// named is a driver that only has a name; id tells two of one name apart.
type named struct {
	name string
	id   int
}

func (n *named) Name() string   { return n.name }
func (n *named) Limits() string { return "none" }
func (n *named) Start(context.Context, *Spec) (Handle, error) {
	return nil, fmt.Errorf("driver %s#%d does not run tasks", n.name, n.id)
}
func (n *named) Recover(context.Context, *Spec) (Handle, error) { return nil, ErrNotRecoverable }

// panics returns what f panicked with, or nil.
func panics(f func()) (v any) {
	defer func() { v = recover() }()
	f()
	return nil
}

// fresh makes driver names no other run of a test in this process took,
// so that tests of the process-wide registry hold with -count=N.
var fresh atomic.Int64

func TestRegisterDuplicatePanics(t *testing.T) {
	name := fmt.Sprintf("test-engine-%d", fresh.Add(1))
	first := &named{name: name, id: 1}
	Register(first)
	v := panics(func() { Register(&named{name: name, id: 2}) })
	if s, _ := v.(string); !strings.Contains(s, `driver "`+name+`" registered twice`) {
		t.Fatalf("a second Register of %s panicked with %v, want a panic naming it", name, v)
	}
	if d, ok := Lookup(name); !ok || d != first {
		t.Errorf("after the refused Register, Lookup(%s) = %v, %v; want the first driver", name, d, ok)
	}
	if !slices.Contains(Names(), name) {
		t.Errorf("Names() = %v, missing %s", Names(), name)
	}

	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"twice in one set", func() { NewDrivers(&named{name: "x"}).Register(&named{name: "x"}) }, `driver "x" registered twice`},
		{"twice in NewDrivers", func() { NewDrivers(&named{name: "x"}, &named{name: "x"}) }, `driver "x" registered twice`},
		{"twice in With", func() { NewDrivers().With(&named{name: "x"}, &named{name: "x"}) }, `driver "x" registered twice`},
		{"nil driver", func() { NewDrivers(nil) }, "nil driver"},
		{"no name", func() { NewDrivers(&named{}) }, "without a name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := panics(tt.f)
			if s, _ := v.(string); !strings.Contains(s, tt.want) {
				t.Errorf("panicked with %v, want %q", v, tt.want)
			}
		})
	}
}

func TestDriversWith(t *testing.T) {
	a1, b1, a2 := &named{name: "a", id: 1}, &named{name: "b", id: 1}, &named{name: "a", id: 2}
	base := NewDrivers(a1, b1)
	derived := base.With(a2)
	if d, _ := derived.Lookup("a"); d != a2 {
		t.Errorf("derived a = %v, want a#2", d)
	}
	if d, _ := derived.Lookup("b"); d != b1 {
		t.Errorf("derived b = %v, want b#1", d)
	}
	if d, _ := base.Lookup("a"); d != a1 {
		t.Errorf("With changed the set it started from: a = %v", d)
	}
	derived.Register(&named{name: "c"})
	if _, ok := base.Lookup("c"); ok {
		t.Error("a driver registered in a derived set shows in the set it came from")
	}
	if got := derived.Names(); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("Names() = %v", got)
	}
	var none *Drivers
	if _, ok := none.Lookup("a"); ok || none.Names() != nil {
		t.Error("a nil set holds something")
	}
	if d, _ := none.With(a2).Lookup("a"); d != a2 {
		t.Error("With on a nil set lost its driver")
	}
	if got := base.With().Names(); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("With() = %v, want a copy", got)
	}
}

// TestAgentRunsItsOwnDrivers: an agent with Drivers of its own takes the
// driver of an engine from them, says which it has when it lacks one, and
// never falls back to the process-wide registry.
func TestAgentRunsItsOwnDrivers(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	name := fmt.Sprintf("test-engine-%d", fresh.Add(1))
	Register(&named{name: name, id: 1}) // process-wide: must not be used
	j := &schema.Job{Name: "j", Namespace: "default", Task: schema.Task{Engine: schema.Engine(name)}}
	run := func(id string, ds *Drivers) state.Execution {
		t.Helper()
		a := &Agent{NodeID: "n", Dir: t.TempDir(), Store: st, Drivers: ds}
		x, err := st.CreateExecution(ctx, state.Execution{ID: id, JobID: "default/j", JobVersion: 1, NodeID: "n",
			Status: state.ExecutionStatus{ComputeState: state.ComputePending, DesiredState: state.DesiredRunning}})
		if err != nil {
			t.Fatal(err)
		}
		x, _, err = a.Run(ctx, x, j)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if x := run("own", NewDrivers(&named{name: name, id: 2})); !strings.Contains(x.Status.Message, "driver "+name+"#2 does not run tasks") {
		t.Errorf("with its own driver: %q, want driver #2's error", x.Status.Message)
	}
	if x := run("lacking", NewDrivers(&named{name: "other"})); x.Status.Message != "no "+name+" driver on node n (have: [other])" {
		t.Errorf("without the engine: %q", x.Status.Message)
	}
	if x := run("default", nil); !strings.Contains(x.Status.Message, "driver "+name+"#1 does not run tasks") {
		t.Errorf("without Drivers of its own: %q, want the registered driver #1's error", x.Status.Message)
	}
	a := &Agent{NodeID: "n", Dir: t.TempDir(), Store: st, Drivers: NewDrivers(&named{name: "other"})}
	if _, _, ok, err := a.Recover(ctx, state.Execution{ID: "default"}, j); ok || err != nil {
		t.Errorf("Recover without the engine's driver = %v, %v; want nothing to re-attach to", ok, err)
	}
}

package runner

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

func TestParsePortRange(t *testing.T) {
	for _, c := range []struct {
		in   string
		want PortRange
		err  string
	}{
		{in: "20000-32000", want: PortRange{20000, 32000}},
		{in: " 1024 - 65535 ", want: PortRange{1024, 65535}},
		{in: "30000", want: PortRange{30000, 30000}},
		{in: "30000-30000", want: PortRange{30000, 30000}},
		{in: "", err: "want LO-HI"},
		{in: "a-b", err: "want LO-HI"},
		{in: "20000-", err: "want LO-HI"},
		{in: "-5-10", err: "want LO-HI"},
		{in: "80-8080", err: "within 1024-65535"},
		{in: "20000-70000", err: "within 1024-65535"},
		{in: "0-0", err: "within 1024-65535"},
		{in: "32000-20000", err: "low end is above the high end"},
	} {
		got, err := ParsePortRange(c.in)
		switch {
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v", c.in, got, err, c.want)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("ParsePortRange(%q) = %v, %v; want an error with %q", c.in, got, err, c.err)
		}
	}
	if got := (PortRange{}).orDefault(); got != DefaultPortRange || got.String() != "20000-32000" || got.Size() != 12001 {
		t.Errorf("the zero range is %v (%d ports), want 20000-32000", got, got.Size())
	}
	if err := DefaultPortRange.Check(); err != nil {
		t.Error(err)
	}
}

func portJob(ns, name string, ports ...schema.Port) *schema.Job {
	return &schema.Job{Namespace: ns, Name: name, Task: schema.Task{Ports: ports}}
}

// refusing is a test bind that refuses the ports of refused, as if other
// processes of the host listened on them.
func refusing(refused ...int) func(int) error {
	return func(p int) error {
		for _, r := range refused {
			if p == r {
				return &net.OpError{Op: "listen", Net: "tcp", Err: &osErr{syscall.EADDRINUSE}}
			}
		}
		return nil
	}
}

// fromLow starts a table's first search at the low end of the range.
func fromLow(int) int { return 0 }

type osErr struct{ err error }

func (e *osErr) Error() string { return e.err.Error() }
func (e *osErr) Unwrap() error { return e.err }

func TestReservePorts(t *testing.T) {
	r := PortRange{30000, 30004}
	held := func(tb *portTable) {
		// Two executions hold ports already: e0 of default/web, x0 of
		// another namespace.
		if _, err := tb.reserve("e0", portJob("default", "web", schema.Port{Name: "http", Port: 8080}, schema.Port{Name: "dyn"}), r); err != nil {
			t.Fatal(err)
		}
		if _, err := tb.reserve("x0", portJob("other", "secret-job", schema.Port{Name: "http", Port: 9090}), r); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name    string
		refused []int
		job     *schema.Job
		want    map[string]int
		err     string
	}{
		{name: "no ports", job: portJob("default", "j")},
		{name: "static", job: portJob("default", "j", schema.Port{Name: "http", Port: 8081}), want: map[string]int{"http": 8081}},
		{name: "dynamic after the held one", job: portJob("default", "j", schema.Port{Name: "a"}, schema.Port{Name: "b"}),
			want: map[string]int{"a": 30001, "b": 30002}},
		{name: "dynamic skips what the host refuses", refused: []int{30001, 30002}, job: portJob("default", "j", schema.Port{Name: "a"}),
			want: map[string]int{"a": 30003}},
		{name: "dynamic skips a static port of the same task", job: portJob("default", "j", schema.Port{Name: "a"}, schema.Port{Name: "s", Port: 30001}),
			want: map[string]int{"a": 30002, "s": 30001}},
		{name: "static held here, same namespace", job: portJob("default", "j", schema.Port{Name: "web", Port: 8080}),
			err: "ports.web: host port 8080 is held by execution e0 of job default/web on this node"},
		{name: "static held here, another namespace", job: portJob("default", "j", schema.Port{Name: "web", Port: 9090}),
			err: "ports.web: host port 9090 is held by an execution of another namespace on this node"},
		{name: "static taken on the host", refused: []int{8443}, job: portJob("default", "j", schema.Port{Name: "tls", Port: 8443}),
			err: "ports.tls: host port 8443 cannot be bound on this node: address already in use"},
		{name: "static inside the range, held by a dynamic one", job: portJob("default", "j", schema.Port{Name: "s", Port: 30000}),
			err: "host port 30000 is held by execution e0"},
		{name: "twice the same static port", job: portJob("default", "j", schema.Port{Name: "a", Port: 8000}, schema.Port{Name: "b", Port: 8000}),
			err: "ports.b: host port 8000 is also the host port of ports.a"},
		{name: "range exhausted", refused: []int{30003, 30004}, job: portJob("default", "j", schema.Port{Name: "a"}, schema.Port{Name: "b"}, schema.Port{Name: "c"}),
			err: "ports.c: no free host port in this node's range 30000-30004 (5 ports: 3 held by its executions, 2 taken on the host)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tb := portTable{first: fromLow}
			held(&tb)
			tb.bind = refusing(c.refused...)
			before := fmt.Sprint(tb.held)
			got, err := tb.reserve("e1", c.job, r)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("reserve = %v, %v; want an error with %q", got, err, c.err)
				}
				var pe *PortError
				if !errors.As(err, &pe) {
					t.Errorf("the error is a %T, not a *PortError", err)
				}
				if after := fmt.Sprint(tb.held); after != before || len(tb.byExec["e1"]) != 0 {
					t.Errorf("a refused reservation left ports held: %s, was %s", after, before)
				}
				return
			}
			if err != nil || fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("reserve = %v, %v; want %v", got, err, c.want)
			}
			for name, p := range got {
				if h := tb.held[p]; h.exec != "e1" {
					t.Errorf("port %s (%d) held by %q", name, p, h.exec)
				}
			}
			tb.release("e1")
			if after := fmt.Sprint(tb.held); after != before {
				t.Errorf("after release %s, want %s", after, before)
			}
		})
	}
}

// TestPortsGoRound: dynamic ports are handed out in turn over the range,
// not the lowest free one, so a port just released is not handed out at
// once; once round, the released ones come again.
func TestPortsGoRound(t *testing.T) {
	tb := portTable{bind: refusing(), first: fromLow}
	r := PortRange{40000, 40002}
	j := portJob("default", "j", schema.Port{Name: "p"})
	var got []int
	for i := 0; i < 5; i++ {
		id := "e" + strconv.Itoa(i)
		m, err := tb.reserve(id, j, r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m["p"])
		tb.release(id)
	}
	if fmt.Sprint(got) != "[40000 40001 40002 40000 40001]" {
		t.Errorf("handed out %v", got)
	}
	if len(tb.held) != 0 || len(tb.byExec) != 0 {
		t.Errorf("held after release: %v %v", tb.held, tb.byExec)
	}
}

// TestNewTablesStartApart: agents sharing a host each start their search
// at a random port of the range, not all at its low end, where they would
// race for the same ports.
func TestNewTablesStartApart(t *testing.T) {
	j := portJob("default", "j", schema.Port{Name: "p"})
	firsts := map[int]bool{}
	for i := 0; i < 20; i++ {
		tb := portTable{bind: refusing()}
		m, err := tb.reserve("e", j, PortRange{})
		if err != nil {
			t.Fatal(err)
		}
		firsts[m["p"]] = true
	}
	if len(firsts) < 2 {
		t.Errorf("20 new tables all handed out %v first", firsts)
	}
}

func TestRestorePorts(t *testing.T) {
	tb := portTable{bind: func(int) error { return errors.New("must not test-bind a restored port") }}
	j := portJob("default", "web", schema.Port{Name: "http", Port: 8080}, schema.Port{Name: "dyn"})
	if err := tb.restore("e1", j, map[string]int{"http": 8080, "dyn": 20007}); err != nil {
		t.Fatal(err)
	}
	if tb.held[8080].exec != "e1" || tb.held[20007].exec != "e1" {
		t.Fatalf("held %v", tb.held)
	}
	// Again for the same execution: nothing changes.
	if err := tb.restore("e1", j, map[string]int{"http": 8080}); err != nil {
		t.Fatal(err)
	}
	// Another execution recorded with a port e1 holds keeps the rest.
	err := tb.restore("e2", j, map[string]int{"http": 8080, "dyn": 20008})
	if err == nil || !strings.Contains(err.Error(), "ports.http: host port 8080 is held by execution e1 of job default/web") {
		t.Errorf("restore over a held port: %v", err)
	}
	if tb.held[8080].exec != "e1" || tb.held[20008].exec != "e2" {
		t.Errorf("held %v", tb.held)
	}
	// A dynamic pick skips restored ports.
	tb.bind = refusing()
	m, err := tb.reserve("e3", portJob("default", "j", schema.Port{Name: "p"}), PortRange{20007, 20009})
	if err != nil || m["p"] != 20009 {
		t.Errorf("reserve = %v, %v; want 20009", m, err)
	}
	tb.release("e2")
	if _, ok := tb.held[8080]; !ok {
		t.Error("releasing e2 let go of e1's port")
	}
}

// TestReserveTestBinds reserves for real: a port some listener of the
// host holds, on loopback only, is refused; once it closes, it is given.
func TestReserveTestBinds(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	var tb portTable
	j := portJob("default", "j", schema.Port{Name: "http", Port: port})
	_, err = tb.reserve("e1", j, PortRange{})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("ports.http: host port %d cannot be bound on this node: ", port)) {
		t.Errorf("reserve of a port a listener holds: %v", err)
	}
	// A dynamic pick skips it.
	m, err := tb.reserve("e2", portJob("default", "j", schema.Port{Name: "p"}), PortRange{port, port + 1})
	if err != nil || m["p"] == port {
		t.Errorf("dynamic pick = %v, %v; want not %d", m, err, port)
	}
	tb.release("e2")
	l.Close()
	if m, err := tb.reserve("e1", j, PortRange{}); err != nil || m["http"] != port {
		t.Errorf("reserve once the listener closed = %v, %v", m, err)
	}
}

// TestPortsNeverShared: many executions reserving and releasing at once
// never hold one port together, and each gets the ports it asked for.
func TestPortsNeverShared(t *testing.T) {
	var tb portTable
	r := PortRange{41000, 41199}
	const workers, rounds = 32, 20
	var mu sync.Mutex
	owner := map[int]string{}
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			j := portJob("default", "j", schema.Port{Name: "a"}, schema.Port{Name: "b"}, schema.Port{Name: "c"})
			for i := 0; i < rounds; i++ {
				id := fmt.Sprintf("w%d-%d", w, i)
				m, err := tb.reserve(id, j, r)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, p := range m {
					if o, ok := owner[p]; ok {
						mu.Unlock()
						errs <- fmt.Errorf("port %d handed to %s while %s holds it", p, id, o)
						return
					}
					owner[p] = id
				}
				mu.Unlock()
				if len(m) != 3 {
					errs <- fmt.Errorf("%s got %v", id, m)
					return
				}
				mu.Lock()
				for _, p := range m {
					delete(owner, p)
				}
				mu.Unlock()
				tb.release(id)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(tb.held) != 0 {
		t.Errorf("%d ports held after every release", len(tb.held))
	}
}

func TestEnvHasPorts(t *testing.T) {
	a := &Agent{NodeID: "n1"}
	e := state.Execution{ID: "e1", JobVersion: 2, Ports: map[string]int{"http": 20001, "admin_api": 8081}}
	env := a.env(e, &schema.Job{Name: "web", Namespace: "default", Task: schema.Task{Env: map[string]string{"A": "b"}}})
	for k, want := range map[string]string{"MUSTER_PORT_HTTP": "20001", "MUSTER_PORT_ADMIN_API": "8081", "A": "b", "MUSTER_JOB_VERSION": "2"} {
		if env[k] != want {
			t.Errorf("%s = %q, want %q", k, env[k], want)
		}
	}
}

package runner

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/muster-dev/muster/schema"
)

// PortRange is an inclusive range of host ports, Lo to Hi, from which a
// node picks the dynamic ports of task.ports (those written without a
// port, or with 0).
//
// The zero PortRange means DefaultPortRange.
type PortRange struct {
	Lo, Hi int
}

// DefaultPortRange is a node's free range when none is given: 20000-32000,
// below Linux's ephemeral range (32768-60999 by default), from which the
// kernel picks the local ports of outgoing connections, so that an
// outgoing connection rarely sits on a port the node would hand out.
var DefaultPortRange = PortRange{Lo: 20000, Hi: 32000}

// The bounds of a free range: no privileged port is handed out dynamically.
const (
	MinRangePort = 1024
	MaxRangePort = 65535
)

// ParsePortRange reads "LO-HI" (a single port "P" is the range P-P) and
// checks it (Check).
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		hi = lo
	}
	var r PortRange
	var err1, err2 error
	r.Lo, err1 = strconv.Atoi(strings.TrimSpace(lo))
	r.Hi, err2 = strconv.Atoi(strings.TrimSpace(hi))
	if err1 != nil || err2 != nil {
		return PortRange{}, fmt.Errorf("port range %q: want LO-HI, two port numbers such as 20000-32000", s)
	}
	if err := r.Check(); err != nil {
		return PortRange{}, err
	}
	return r, nil
}

// Check says what is wrong with r: it must hold MinRangePort <= Lo <= Hi
// <= MaxRangePort.
func (r PortRange) Check() error {
	switch {
	case r.Lo < MinRangePort || r.Hi > MaxRangePort:
		return fmt.Errorf("port range %s: both ends must be within %d-%d (no privileged port is handed out dynamically)", r, MinRangePort, MaxRangePort)
	case r.Lo > r.Hi:
		return fmt.Errorf("port range %s: the low end is above the high end", r)
	}
	return nil
}

// String is "LO-HI".
func (r PortRange) String() string { return strconv.Itoa(r.Lo) + "-" + strconv.Itoa(r.Hi) }

// Size is how many ports r holds.
func (r PortRange) Size() int { return r.Hi - r.Lo + 1 }

// orDefault is r, or DefaultPortRange for the zero range.
func (r PortRange) orDefault() PortRange {
	if r == (PortRange{}) {
		return DefaultPortRange
	}
	return r
}

// portHolder is the execution that holds a host port.
type portHolder struct {
	exec string // execution id
	ns   string // its job's namespace
	job  string // "<namespace>/<name>"
}

// portTable is an agent's table of the host ports its executions hold: no
// port is held by two of them. Its zero value is ready; it is safe for
// concurrent use.
type portTable struct {
	mu     sync.Mutex
	held   map[int]portHolder
	byExec map[string][]int
	// next is where the search for a dynamic port resumes: ports are
	// handed out in turn over the range, so a port just released (its
	// old listener perhaps not quite gone) is not handed out again at
	// once. A new table starts at a random port of the range, so that
	// agents sharing a host (a dev cluster, an agent restarted while the
	// ports it handed out linger) do not all try the same ports first.
	next int
	// first picks the offset into a range of n ports where a new table's
	// search starts; nil means a random one.
	first func(n int) int
	// bind test-binds a host port; nil means canBind.
	bind func(port int) error
}

// canBind reports whether the host lets a listener bind port on every
// interface (as docker publishes a port, and as a task listening on
// MUSTER_PORT_<NAME> may), by binding it and letting it go. A port a
// process of the host listens on, on any address, fails.
func canBind(port int) error {
	l, err := net.Listen("tcp", ":"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	return l.Close()
}

func (t *portTable) test(port int) error {
	if t.bind != nil {
		return t.bind(port)
	}
	return canBind(port)
}

// PortError says why an execution did not get its host ports.
type PortError struct {
	// Port is the name of the entry of task.ports that got none.
	Port string
	// HostPort is the static host port refused; 0 for a dynamic one.
	HostPort int
	// Reason says why, in words.
	Reason string
}

func (e *PortError) Error() string {
	if e.HostPort == 0 {
		return fmt.Sprintf("ports.%s: %s", e.Port, e.Reason)
	}
	return fmt.Sprintf("ports.%s: host port %d %s", e.Port, e.HostPort, e.Reason)
}

// reserve gives execution id of job j a host port for every entry of
// j.Task.Ports, by name: a static port as written, once no other
// execution of this agent holds it and the host can bind it; a dynamic
// one picked from r (its zero value meaning DefaultPortRange), skipping the
// ports held here and those the host cannot bind. It takes all or none:
// on error nothing stays held. A job without ports gets nil.
func (t *portTable) reserve(id string, j *schema.Job, r PortRange) (map[string]int, error) {
	if len(j.Task.Ports) == 0 {
		return nil, nil
	}
	r = r.orDefault()
	if err := r.Check(); err != nil {
		return nil, fmt.Errorf("the node's free range of host ports: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	got := make(map[string]int, len(j.Task.Ports))
	taken := make([]int, 0, len(j.Task.Ports))
	fail := func(err error) (map[string]int, error) {
		t.drop(id, taken)
		return nil, err
	}
	// Static ports first: a dynamic pick must not take one of them.
	statics := map[int]string{}
	for _, p := range j.Task.Ports {
		if p.Port == 0 {
			continue
		}
		if other, dup := statics[p.Port]; dup {
			return fail(&PortError{Port: p.Name, HostPort: p.Port, Reason: "is also the host port of ports." + other + ": one host port cannot serve two ports"})
		}
		statics[p.Port] = p.Name
		if h, held := t.held[p.Port]; held {
			return fail(&PortError{Port: p.Name, HostPort: p.Port, Reason: "is held by " + h.describe(j.Namespace) + " on this node"})
		}
		if err := t.test(p.Port); err != nil {
			return fail(&PortError{Port: p.Name, HostPort: p.Port, Reason: "cannot be bound on this node: " + innermost(err).Error()})
		}
		t.hold(p.Port, id, j)
		taken = append(taken, p.Port)
		got[p.Name] = p.Port
	}
	for _, p := range j.Task.Ports {
		if p.Port != 0 {
			continue
		}
		port, held, refused := t.pick(r)
		if port == 0 {
			return fail(&PortError{Port: p.Name, Reason: fmt.Sprintf("no free host port in this node's range %s (%d ports: %d held by its executions, %d taken on the host)", r, r.Size(), held, refused)})
		}
		t.hold(port, id, j)
		taken = append(taken, port)
		got[p.Name] = port
	}
	return got, nil
}

// pick returns a port of r that no execution here holds and the host can
// bind, going round the range from where the last search ended; 0 when
// there is none, with how many were held and how many the host refused.
func (t *portTable) pick(r PortRange) (port, held, refused int) {
	n := r.Size()
	start := t.next
	if start < r.Lo || start > r.Hi {
		start = r.Lo + t.offset(n)
	}
	for i := 0; i < n; i++ {
		p := r.Lo + (start-r.Lo+i)%n
		if _, ok := t.held[p]; ok {
			held++
			continue
		}
		if t.test(p) != nil {
			refused++
			continue
		}
		t.next = p + 1
		return p, held, refused
	}
	return 0, held, refused
}

func (t *portTable) offset(n int) int {
	if t.first != nil {
		return t.first(n)
	}
	return rand.IntN(n)
}

// restore holds again the host ports an execution was recorded with, when
// the agent re-attaches to it (Recover): its task holds them on the host
// already, so they are not test-bound. A port another execution here holds
// meanwhile stays that one's; restore says so in the returned error and
// holds the rest.
func (t *portTable) restore(id string, j *schema.Job, recorded map[string]int) error {
	if len(recorded) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(recorded)) {
		port := recorded[name]
		if h, ok := t.held[port]; ok && h.exec != id {
			errs = append(errs, &PortError{Port: name, HostPort: port, Reason: "is held by " + h.describe(j.Namespace) + " on this node"})
			continue
		} else if ok {
			continue
		}
		t.hold(port, id, j)
	}
	return errors.Join(errs...)
}

// release lets go of every host port execution id holds.
func (t *portTable) release(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.drop(id, t.byExec[id])
}

func (t *portTable) hold(port int, id string, j *schema.Job) {
	if t.held == nil {
		t.held, t.byExec = map[int]portHolder{}, map[string][]int{}
	}
	t.held[port] = portHolder{exec: id, ns: j.Namespace, job: j.Namespace + "/" + j.Name}
	t.byExec[id] = append(t.byExec[id], port)
}

// drop lets go of ports, those of them that id holds. t.mu is held.
func (t *portTable) drop(id string, ports []int) {
	for _, p := range ports {
		if h, ok := t.held[p]; ok && h.exec == id {
			delete(t.held, p)
		}
	}
	left := t.byExec[id][:0]
	for _, p := range t.byExec[id] {
		if h, ok := t.held[p]; ok && h.exec == id {
			left = append(left, p)
		}
	}
	if len(left) == 0 {
		delete(t.byExec, id)
	} else {
		t.byExec[id] = left
	}
}

// describe names the holder for an execution of namespace ns: its
// execution and job when they are of the same namespace, nothing of them
// otherwise (a namespace does not learn another's names).
func (h portHolder) describe(ns string) string {
	if h.ns == ns {
		return "execution " + h.exec + " of job " + h.job
	}
	return "an execution of another namespace"
}

// PortEnv is the name of the environment variable holding the host port of
// task.ports entry name: MUSTER_PORT_<NAME in upper case>.
func PortEnv(name string) string { return "MUSTER_PORT_" + strings.ToUpper(name) }

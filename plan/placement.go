package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/selector"
)

// Node is a node as planning sees it: an id, its labels, what it offers
// and what is placed on it.
type Node struct {
	ID     string            `json:"id"`
	Labels map[string]string `json:"labels"`
	// Capacity is what the node advertises; a zero field is not
	// advertised (older node records, inventories without capacity):
	// placement counts nothing there, as if it were unlimited.
	Capacity Resources `json:"capacity,omitzero"`
	// Load is what the executions placed on the node and not yet ended
	// hold, by job ("namespace/name"). Placing a job counts the load of
	// every other job: its own executions are the ones its rollout
	// replaces (see PlaceMore for executions beside them).
	Load map[string]Resources `json:"load,omitempty"`
}

// Placement says where a job's executions go and in which order a rollout
// reaches them.
type Placement struct {
	// MatchedNodes lists every node the selector matches, sorted by id.
	MatchedNodes []string `json:"matched_nodes"`
	// Executions counts the executions per target node for batch and
	// service jobs (ops and daemon run one on every matched node). A job
	// with a static host port has at most one per node.
	Executions map[string]int `json:"executions,omitempty"`
	// Unplaced counts the executions that no node can take: for a batch
	// or service job, all of them when no node matches, those beyond one
	// per matching node when the job has a static host port (which two of
	// its executions cannot share on one node), and those no matching node
	// has room for (task.resources beside the executions placed there);
	// for an ops or daemon job, one per matching node without room. They
	// wait (docs/spec.md section 4), and UnplacedReason and the warnings
	// say why.
	Unplaced int `json:"unplaced,omitempty"`
	// UnplacedReason says why the last unplaced execution fits nowhere:
	// "no matching node has 4 cpus free (largest free: 2 cpus on n1)";
	// empty when all are placed.
	UnplacedReason string `json:"unplaced_reason,omitempty"`
	// Canary is the first set of target nodes of a canary rollout.
	Canary []string `json:"canary"`
	// CanaryExecutions counts the canary's executions on each canary node
	// for jobs with a count (batch and service): their canary_count and
	// canary_percent count executions, the first ones in placement order,
	// and the rest of a canary node's executions come in a later wave.
	// Nil for ops and daemon jobs, whose canary is whole nodes.
	CanaryExecutions map[string]int `json:"canary_executions,omitempty"`
	// Waves are the following sets of target nodes, each at most
	// max_parallel percent of them (at least one node). A node is in at
	// most one wave.
	Waves [][]string `json:"waves"`
}

// Want returns how many executions the rollout has started on node by the
// end of set i (0 the canary, 1.. the waves): the canary's share of the
// node in the canary, all of them after it. Ops and daemon jobs (no
// Executions) have one per node.
func (pl *Placement) Want(i int, node string) int {
	if pl.Executions == nil {
		return 1
	}
	if i == 0 && pl.CanaryExecutions != nil {
		return pl.CanaryExecutions[node]
	}
	return pl.Executions[node]
}

// Share returns how many executions set i starts on node: Want less what
// the canary started there before.
func (pl *Placement) Share(i int, node string) int {
	n := pl.Want(i, node)
	if i > 0 && pl.CanaryExecutions != nil {
		n -= pl.CanaryExecutions[node]
	}
	return max(n, 0)
}

// nodeIndex holds nodes sorted by id with their parsed state.
type nodeIndex struct {
	nodes []Node
}

func newNodeIndex(nodes []Node) *nodeIndex {
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b Node) int { return strings.Compare(a.ID, b.ID) })
	return &nodeIndex{nodes: sorted}
}

// Place computes the placement of j over nodes, and the warnings a user
// should read before applying it: all of its executions (its count, or one
// on every matching node), on nodes with room for them beside the load of
// the other jobs. The same job and nodes give the same placement.
func Place(j *schema.Job, nodes []Node) (Placement, []string) {
	return place(j, newNodeIndex(nodes), placeOpts{})
}

// PlaceMore places more executions of j beside those it holds already
// (its own load counts): n more of a batch or service job, or one on each
// matching node that skip does not name for an ops or daemon job. It
// places the executions a rollout could not place at first, once room
// frees.
func PlaceMore(j *schema.Job, nodes []Node, n int, skip func(node string) bool) (Placement, []string) {
	return place(j, newNodeIndex(nodes), placeOpts{more: n, own: true, skip: skip})
}

// placeOpts change what place places (see PlaceMore).
type placeOpts struct {
	more int
	own  bool
	skip func(node string) bool
}

func place(j *schema.Job, idx *nodeIndex, o placeOpts) (Placement, []string) {
	pl := Placement{MatchedNodes: []string{}, Canary: []string{}, Waves: [][]string{}}
	warnings := []string{}
	reqs := make([]selector.Requirement, 0, len(j.Selector.MatchExpressions))
	for _, e := range j.Selector.MatchExpressions {
		r, err := selector.Parse(e)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("selector expression %q does not parse: %v", e, err))
			continue
		}
		reqs = append(reqs, r)
	}
	absent := make([][]string, len(reqs))
	var matched []*Node // in id order, as pl.MatchedNodes
	for i := range idx.nodes {
		n := &idx.nodes[i]
		if !matches(j, reqs, *n, absent) {
			continue
		}
		pl.MatchedNodes = append(pl.MatchedNodes, n.ID)
		matched = append(matched, n)
	}
	for i, r := range reqs {
		if len(absent[i]) > 0 {
			warnings = append(warnings, fmt.Sprintf("selector expression %q also matches %s without a %q label: %s",
				r.String(), count(len(absent[i]), "node"), r.Key, sample(absent[i])))
		}
	}
	want := j.Count
	if o.more > 0 {
		want = o.more
	}
	if len(pl.MatchedNodes) == 0 {
		warnings = append(warnings, "no node matches the selector: the job will stay queued until one does")
		if j.Type.HasCount() {
			pl.Unplaced = want
		}
		return pl, warnings
	}

	ref := j.Namespace + "/" + j.Name
	need := TaskResources(j)
	// The matching nodes in rendezvous order, as indexes into matched.
	order := rendezvous(ref, pl.MatchedNodes)
	if o.skip != nil {
		order = slices.DeleteFunc(order, func(i int) bool { return o.skip(matched[i].ID) })
	}
	if !j.Type.HasCount() {
		// One execution on every matching node with room.
		targets := make([]string, 0, len(order))
		var full []room
		for _, i := range order {
			if matched[i].Capacity.IsZero() {
				targets = append(targets, matched[i].ID) // unlimited
				continue
			}
			if r := roomOf(matched[i], ref, o.own); r.fits(need) {
				targets = append(targets, matched[i].ID)
			} else {
				full = append(full, r)
			}
		}
		if len(full) > 0 {
			full = byIDOrder(full)
			ids := make([]string, len(full))
			for i, r := range full {
				ids[i] = r.id
			}
			pl.Unplaced = len(full)
			pl.UnplacedReason = noRoom(need, full, "none of the matching nodes left ("+sample(ids)+")")
			warnings = append(warnings, nodesWithoutRoomWarning(j, len(full), pl.UnplacedReason))
		}
		pl.Canary, pl.Waves = waves(&j.Rollout, targets)
		return pl, warnings
	}
	// Execution i goes to the first node with room from the one after
	// execution i-1's, in rendezvous order: round robin over the nodes
	// (over the first count of them when they are more), skipping those
	// without room, and those holding one already when the job has a
	// static host port (one per node). The canary's executions are the
	// first ones. The room of a node is computed when it is first
	// reached.
	var rooms []room // of order[0:len(rooms)]
	roomAt := func(k int) *room {
		for len(rooms) <= k {
			rooms = append(rooms, roomOf(matched[order[len(rooms)]], ref, o.own))
		}
		return &rooms[k]
	}
	static := j.Task.StaticPorts()
	pl.Executions = map[string]int{}
	var assigned []string // the node of each placed execution
	var targets []string  // the nodes given one, in that order
	next := 0
	for len(assigned) < want && len(order) > 0 {
		at := -1
		for k := range order {
			i := (next + k) % len(order)
			if len(static) > 0 && pl.Executions[matched[order[i]].ID] > 0 || !roomAt(i).fits(need) {
				continue
			}
			at = i
			break
		}
		if at < 0 {
			break // every execution needs the same: none of the rest fits either
		}
		rooms[at].take(need)
		id := matched[order[at]].ID
		if pl.Executions[id] == 0 {
			targets = append(targets, id)
		}
		pl.Executions[id]++
		assigned = append(assigned, id)
		next = at + 1
	}
	placed := len(assigned)
	if placed < want {
		roomAt(len(order) - 1) // every node's, to say why
		pl.Unplaced = want - placed
		warnings = append(warnings, unplacedWarnings(j, want, placed, static, need, rooms[:len(order)], &pl)...)
	}
	if placed == 0 {
		pl.Executions = nil
		return pl, warnings
	}
	n := canarySize(&j.Rollout, placed)
	if n == 0 {
		pl.Waves = cut(&j.Rollout, targets, len(targets))
		return pl, warnings
	}
	pl.CanaryExecutions = map[string]int{}
	for _, id := range assigned[:n] {
		if pl.CanaryExecutions[id] == 0 {
			pl.Canary = append(pl.Canary, id)
		}
		pl.CanaryExecutions[id]++
	}
	var rest []string
	for _, node := range targets {
		if pl.Executions[node] > pl.CanaryExecutions[node] {
			rest = append(rest, node)
		}
	}
	pl.Waves = cut(&j.Rollout, rest, len(targets))
	return pl, warnings
}

// unplacedWarnings say why want-placed executions of a batch or service
// job were not placed (static host ports, room, or both), and set
// pl.UnplacedReason.
func unplacedWarnings(j *schema.Job, want, placed int, static []schema.Port, need Resources, rooms []room, pl *Placement) []string {
	var out []string
	byPort := 0 // executions a static port keeps off every matching node
	if len(static) > 0 && want > len(rooms) {
		byPort = want - len(rooms)
		out = append(out, staticPortWarning(want, static, len(rooms)))
		pl.UnplacedReason = staticPortReason(static, len(rooms))
	}
	if byRoom := want - placed - byPort; byRoom > 0 {
		// The nodes that could take one but for room.
		var candidates []room
		for _, r := range rooms {
			if len(static) == 0 || pl.Executions[r.id] == 0 {
				candidates = append(candidates, r)
			}
		}
		reason := noRoom(need, byIDOrder(candidates), "no matching node")
		pl.UnplacedReason = reason
		what := "the job waits queued until room frees"
		switch {
		case placed > 0 && j.Type == schema.Service:
			what = fmt.Sprintf("the job runs degraded with %s until room frees", count(placed, "execution"))
		case placed > 0:
			what = fmt.Sprintf("they wait queued until room frees, after the %s placed", count(placed, "execution"))
		}
		out = append(out, fmt.Sprintf("%s cannot be placed: %s: %s", count(byRoom, "execution"), reason, what))
	}
	return out
}

// nodesWithoutRoomWarning says why n executions of an ops or daemon job
// (one per matching node) have no room.
func nodesWithoutRoomWarning(j *schema.Job, n int, reason string) string {
	what := "they wait queued until room frees there"
	if j.Type == schema.Daemon {
		what = "the daemon runs degraded until room frees there"
	}
	return fmt.Sprintf("%s cannot be placed: %s: %s", count(n, "execution"), reason, what)
}

// byIDOrder returns rooms sorted by node id, so that what is said of
// them does not depend on the rendezvous order.
func byIDOrder(rooms []room) []room {
	out := slices.Clone(rooms)
	slices.SortFunc(out, func(a, b room) int { return strings.Compare(a.id, b.id) })
	return out
}

// staticPortReason is the UnplacedReason of executions a static port
// keeps off nodes that hold one already.
func staticPortReason(static []schema.Port, nodes int) string {
	return fmt.Sprintf("static port %d (%s) is taken on every matching node (%s)", static[0].Port, static[0].Name, count(nodes, "node"))
}

// staticPortWarning says why executions of a job with static host ports
// cannot all be placed: want executions, only nodes matching nodes.
func staticPortWarning(want int, static []schema.Port, nodes int) string {
	ports := make([]string, len(static))
	for i, p := range static {
		ports[i] = fmt.Sprintf("%d (%s)", p.Port, p.Name)
	}
	what := "static port " + ports[0]
	if len(ports) > 1 {
		what = "static ports " + strings.Join(ports[:len(ports)-1], ", ") + " and " + ports[len(ports)-1]
	}
	only := "only " + count(nodes, "matching node") + " can take one each"
	if nodes == 1 {
		only = "only 1 matching node can take one"
	}
	return fmt.Sprintf("%d executions want %s but %s: %s cannot be placed: the job runs degraded until more nodes match",
		want, what, only, count(want-nodes, "execution"))
}

// canarySize is the size of the canary set out of total (nodes, or
// executions for jobs with a count): 0 without the canary strategy, else
// canary_count or canary_percent of total rounded up, at least 1 and at
// most total.
func canarySize(r *schema.Rollout, total int) int {
	if r.Strategy != schema.Canary || total == 0 {
		return 0
	}
	n := r.CanaryCount
	if r.CanaryPercent > 0 {
		n = (total*r.CanaryPercent + 99) / 100
	}
	return max(1, min(n, total))
}

// matches reports whether node n is selected, recording for each
// requirement the nodes it matched only because they lack its key.
func matches(j *schema.Job, reqs []selector.Requirement, n Node, absent [][]string) bool {
	s := &j.Selector
	if len(s.MatchIDs) > 0 {
		if _, ok := slices.BinarySearch(s.MatchIDs, n.ID); !ok {
			return false
		}
	}
	for k, v := range s.MatchLabels {
		if got, ok := n.Labels[k]; !ok || got != v {
			return false
		}
	}
	var lacking []int
	for i, r := range reqs {
		if !r.Matches(n.Labels) {
			return false
		}
		if r.MatchesAbsent() {
			if _, has := n.Labels[r.Key]; !has {
				lacking = append(lacking, i)
			}
		}
	}
	for _, i := range lacking {
		absent[i] = append(absent[i], n.ID)
	}
	return true
}

// rendezvous orders node ids by a hash of the job and the node (highest
// random weight), so that each job spreads its executions, canaries and
// first waves over different nodes, and a node joining or leaving moves
// only its own share. It returns the indexes of ids in that order, which
// is deterministic.
func rendezvous(job string, ids []string) []int {
	type scored struct {
		i     int
		score uint64
	}
	s := make([]scored, len(ids))
	seed := fnv64a(fnvOffset, job) * fnvPrime // the job, then a 0 byte separator
	for i, id := range ids {
		s[i] = scored{i, mix(fnv64a(seed, id))}
	}
	slices.SortFunc(s, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return strings.Compare(ids[a.i], ids[b.i])
	})
	out := make([]int, len(s))
	for i, e := range s {
		out[i] = e.i
	}
	return out
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv64a continues an FNV-1a hash h over s without allocating.
func fnv64a(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// mix is the splitmix64 finalizer: FNV alone leaves similar ids with
// similar high bits.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// waves cuts the target nodes of an ops or daemon job into the canary set
// (whole nodes) and the waves.
func waves(r *schema.Rollout, targets []string) ([]string, [][]string) {
	n := canarySize(r, len(targets))
	return targets[:n], cut(r, targets[n:], len(targets))
}

// cut cuts nodes into waves of max_parallel percent of total target nodes
// each (at least one node), or one wave for the immediate strategy.
func cut(r *schema.Rollout, nodes []string, total int) [][]string {
	out := [][]string{}
	if len(nodes) == 0 {
		return out
	}
	if r.Strategy == schema.Immediate {
		return append(out, nodes)
	}
	size := max(1, total*r.MaxParallel/100)
	for len(nodes) > 0 {
		n := min(size, len(nodes))
		out = append(out, nodes[:n])
		nodes = nodes[n:]
	}
	return out
}

func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// sample lists up to five ids.
func sample(ids []string) string {
	if len(ids) <= 5 {
		return strings.Join(ids, ", ")
	}
	return strings.Join(ids[:5], ", ") + fmt.Sprintf(" and %d more", len(ids)-5)
}

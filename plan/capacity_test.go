package plan

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// capNodes makes nodes from "id=cpus/memoryMB[+load]" items: "n1=2/4096"
// advertises 2 cpus and 4G, "n2=-/-" nothing (unlimited), "n3=4/8192+other:3000/1024"
// has 3 cpus and 1G held by the job default/other.
func capNodes(t *testing.T, spec string) []Node {
	t.Helper()
	var out []Node
	for _, item := range strings.Fields(spec) {
		id, rest, _ := strings.Cut(item, "=")
		capText, loads, _ := strings.Cut(rest, "+")
		n := Node{ID: id, Labels: map[string]string{}}
		var cpus, mem string
		fmt.Sscanf(strings.Replace(capText, "/", " ", 1), "%s %s", &cpus, &mem)
		if cpus != "-" {
			var c float64
			fmt.Sscan(cpus, &c)
			n.Capacity.MilliCPUs = MilliCPUs(c)
		}
		if mem != "-" {
			fmt.Sscan(mem, &n.Capacity.MemoryMB)
		}
		for _, l := range strings.Split(loads, ",") {
			if l == "" {
				continue
			}
			job, amounts, _ := strings.Cut(l, ":")
			var r Resources
			fmt.Sscanf(strings.Replace(amounts, "/", " ", 1), "%d %d", &r.MilliCPUs, &r.MemoryMB)
			if n.Load == nil {
				n.Load = map[string]Resources{}
			}
			n.Load["default/"+job] = r
		}
		out = append(out, n)
	}
	return out
}

// capJob is a job named a of type typ with count and task.resources.
func capJob(t *testing.T, typ string, count int, cpus, memory string) string {
	t.Helper()
	src := fmt.Sprintf("name: a\ntype: %s\ntask: {engine: exec, cmd: [x], resources: {cpus: %s, memory: %s}}\n", typ, cpus, memory)
	if count > 0 {
		src += fmt.Sprintf("count: %d\n", count)
	}
	return src
}

// TestCapacityPlacement is the table of placements by room: an execution
// goes only where its task.resources fit beside what other jobs hold;
// what fits nowhere is counted, with the reason.
func TestCapacityPlacement(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		nodes    string
		want     map[string]int // executions per node (count jobs) or 1 per target node (ops, daemon)
		unplaced int
		reason   string
		warn     string
	}{
		{"fits", capJob(t, "batch", 3, "1", "256M"), "n1=2/1024 n2=2/1024",
			map[string]int{"n1": 2, "n2": 1}, 0, "", ""},
		{"fits beside other jobs", capJob(t, "batch", 2, "1", "256M"), "n1=2/1024+b:1000/256 n2=2/1024+b:1000/256",
			map[string]int{"n1": 1, "n2": 1}, 0, "", ""},
		{"does not fit: load", capJob(t, "batch", 3, "4", "256M"), "n1=4/8192+b:2000/256 n2=8/8192+c:7000/256",
			nil, 3, "no matching node has 4 cpus free (largest free: 2 cpus on n1)",
			"3 executions cannot be placed: no matching node has 4 cpus free (largest free: 2 cpus on n1): the job waits queued until room frees"},
		{"does not fit: too large", capJob(t, "service", 3, "4", "256M"), "n1=2/1024 n2=2/1024",
			nil, 3, "no matching node is large enough: the task needs 4 cpus, the largest has 2 cpus (n1)", ""},
		{"does not fit: memory", capJob(t, "batch", 2, "0.5", "512M"), "n1=8/768",
			map[string]int{"n1": 1}, 1, "no matching node has 512M of memory free (largest free: 256M on n1)",
			"1 execution cannot be placed: no matching node has 512M of memory free (largest free: 256M on n1): they wait queued until room frees, after the 1 execution placed"},
		{"partly placed service runs degraded", capJob(t, "service", 3, "1", "256M"), "n1=2/4096",
			map[string]int{"n1": 2}, 1, "no matching node has 1 cpu free (largest free: 0 cpus on n1)",
			"1 execution cannot be placed: no matching node has 1 cpu free (largest free: 0 cpus on n1): the job runs degraded with 2 executions until room frees"},
		{"mixed sizes", capJob(t, "batch", 3, "2", "2G"), "n1=1/8192 n2=4/1024 n3=4/4096",
			map[string]int{"n3": 2}, 1, "no matching node has 2 cpus and 2G of memory free at once (most cpus free: 4 cpus on n2; most memory free: 8G on n1)", ""},
		{"both short", capJob(t, "batch", 1, "2", "2G"), "n1=1/1024 n2=1/1536",
			nil, 1, "no matching node is large enough: the task needs 2 cpus, the largest has 1 cpu (n1); 2G of memory, the largest has 1536M (n2)", ""},
		{"both short by load", capJob(t, "batch", 1, "2", "2G"), "n1=4/4096+b:3000/3072",
			nil, 1, "no matching node has 2 cpus and 2G of memory free (largest free: 1 cpu on n1, 1G on n1)", ""},
		{"millicores add up exactly", capJob(t, "batch", 10, "100m", "4M"), "n1=1/-",
			map[string]int{"n1": 10}, 0, "", ""},
		{"no capacity is unlimited", capJob(t, "batch", 5, "8", "64G"), "n1=-/- n2=-/-+b:99000/99999",
			map[string]int{"n1": 3, "n2": 2}, 0, "", ""},
		{"cpus only advertised", capJob(t, "batch", 3, "1", "64G"), "n1=2/-",
			map[string]int{"n1": 2}, 1, "no matching node has 1 cpu free (largest free: 0 cpus on n1)", ""},
		{"its own executions are replaced, not counted", capJob(t, "service", 2, "1", "256M"), "n1=2/1024+a:2000/512",
			map[string]int{"n1": 2}, 0, "", ""},
		{"a full node is skipped, not the order", capJob(t, "batch", 4, "1", "256M"), "n1=2/-+b:2000/0 n2=2/- n3=2/-",
			map[string]int{"n2": 2, "n3": 2}, 0, "", ""},
		{"ops: a node without room", capJob(t, "ops", 0, "1", "256M"), "n1=2/1024 n2=1/1024+b:500/0 n3=-/-",
			map[string]int{"n1": 1, "n3": 1}, 1, "none of the matching nodes left (n2) has 1 cpu free (largest free: 0.5 cpus on n2)",
			"1 execution cannot be placed: none of the matching nodes left (n2) has 1 cpu free (largest free: 0.5 cpus on n2): they wait queued until room frees there"},
		{"daemon: nodes without room", capJob(t, "daemon", 0, "1", "1G"), "n1=2/512 n2=2/768",
			nil, 2, "none of the matching nodes left (n1, n2) is large enough: the task needs 1G of memory, the largest has 768M (n2)",
			"2 executions cannot be placed: none of the matching nodes left (n1, n2) is large enough: the task needs 1G of memory, the largest has 768M (n2): the daemon runs degraded until room frees there"},
		{"static port and room", "name: a\ntype: service\ncount: 4\ntask: {engine: exec, cmd: [x], ports: [{name: http, port: 80}], resources: {cpus: 1}}\n",
			"n1=1/- n2=1/-+b:1000/0 n3=4/-", map[string]int{"n1": 1, "n3": 1}, 2, "no matching node has 1 cpu free (largest free: 0 cpus on n2)",
			"4 executions want static port 80 (http) but only 3 matching nodes can take one each"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job(t, tt.src)
			inv := capNodes(t, tt.nodes)
			pl, warns := Place(j, inv)
			got := pl.Executions
			if !j.Type.HasCount() {
				got = map[string]int{}
				for _, n := range targets(pl) {
					got[n] = 1
				}
			}
			if len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.want) || pl.Unplaced != tt.unplaced || pl.UnplacedReason != tt.reason {
				t.Errorf("placed %v, unplaced %d (%q);\nwant %v, %d (%q)", got, pl.Unplaced, pl.UnplacedReason, tt.want, tt.unplaced, tt.reason)
			}
			if tt.warn != "" && !slices.ContainsFunc(warns, func(w string) bool { return strings.HasPrefix(w, tt.warn) }) {
				t.Errorf("warnings %q lack %q", warns, tt.warn)
			}
			if tt.unplaced == 0 && len(warns) > 0 {
				t.Errorf("warnings %q, want none", warns)
			}
			// The sets start exactly what is placed.
			started := 0
			for i, set := range append([][]string{pl.Canary}, pl.Waves...) {
				for _, n := range set {
					started += pl.Share(i, n)
				}
			}
			placed := 0
			for _, n := range got {
				placed += n
			}
			if started != placed {
				t.Errorf("the sets start %d executions, %d are placed", started, placed)
			}
			// Deterministic: the same inputs, in any order, give the same
			// placement.
			for range 5 {
				shuffled := slices.Clone(inv)
				rand.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				again, againWarns := Place(j, shuffled)
				if !reflect.DeepEqual(pl, again) || !slices.Equal(warns, againWarns) {
					t.Fatalf("placement differs with the nodes in another order:\n%+v\n%+v", pl, again)
				}
			}
		})
	}
}

// TestPlaceMore: the executions a rollout could not place at first are
// placed beside the job's own, which count.
func TestPlaceMore(t *testing.T) {
	j := job(t, capJob(t, "batch", 3, "1", "256M"))
	inv := capNodes(t, "n1=2/-+a:1000/256 n2=2/-+a:2000/512")
	pl, _ := PlaceMore(j, inv, 2, nil)
	if !reflect.DeepEqual(pl.Executions, map[string]int{"n1": 1}) || pl.Unplaced != 1 ||
		pl.UnplacedReason != "no matching node has 1 cpu free (largest free: 0 cpus on n1)" {
		t.Errorf("PlaceMore = %+v", pl)
	}
	ops := job(t, capJob(t, "ops", 0, "1", "256M"))
	pl, _ = PlaceMore(ops, capNodes(t, "n1=2/- n2=2/- n3=2/-+a:1500/0"), 0, func(n string) bool { return n == "n1" })
	if got := targets(pl); !reflect.DeepEqual(got, []string{"n2"}) || pl.Unplaced != 1 {
		t.Errorf("PlaceMore of ops skipping n1 = %v, unplaced %d (%s)", got, pl.Unplaced, pl.UnplacedReason)
	}
}

// TestCapacityCanary: the canary is cut from the placed executions.
func TestCapacityCanary(t *testing.T) {
	j := job(t, "name: a\ntype: service\ncount: 6\nrollout: {strategy: canary, canary_percent: 50}\ntask: {engine: exec, cmd: [x], resources: {cpus: 1}}\n")
	pl, _ := Place(j, capNodes(t, "n1=2/- n2=1/- n3=1/-"))
	n := 0
	for _, c := range pl.CanaryExecutions {
		n += c
	}
	if pl.Unplaced != 2 || n != 2 {
		t.Errorf("canary of %d executions, %d unplaced: %+v", n, pl.Unplaced, pl)
	}
}

// targets lists the nodes of the sets of pl.
func targets(pl Placement) []string {
	var out []string
	for _, set := range append([][]string{pl.Canary}, pl.Waves...) {
		for _, n := range set {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

package plan

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

func job(t testing.TB, src string) *schema.Job {
	t.Helper()
	trees, diags := yaml.Parse("job.yaml", []byte(src), lang.Options{})
	if diags.HasErrors() || len(trees) != 1 {
		t.Fatalf("parse: %v", diags)
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		t.Fatalf("validate: %v", diags)
	}
	return j
}

// memState is a State over a map, the stored form being canonical bytes.
type memState map[string]*Current

func (m memState) Current(_ context.Context, ns, name string) (*Current, error) {
	return m[ns+"/"+name], nil
}

func stored(j *schema.Job, version int, rev uint64) *Current {
	return &Current{Version: version, Hash: j.Hash(), Revision: rev, Spec: j.Canonical()}
}

const base = `
name: web
type: service
count: 3
labels: {team: a}
task: {engine: docker, image: "web:1", env: {A: "1"}, cmd: [serve, --port, "80"]}
`

func TestActions(t *testing.T) {
	old := job(t, base)
	st := memState{"default/web": stored(old, 4, 9)}
	nodes := []Node{{ID: "n1"}, {ID: "n2"}}

	// Same job, other spelling and defaults written out: no-op, no diff.
	same := job(t, base+"namespace: default\npriority: 50\nrollout: {strategy: rolling}\n")
	p, err := Make(context.Background(), st, []*schema.Job{same}, nodes, "live")
	if err != nil {
		t.Fatal(err)
	}
	jp := p.Jobs[0]
	if jp.Action != NoOp || len(jp.Diff) != 0 || jp.ChangeClass != ClassNone || jp.FromVersion != 4 || jp.ToVersion != 4 || jp.BaseRevision != 9 {
		t.Errorf("no-op plan = %+v", jp)
	}
	if p.Changes() {
		t.Error("Changes() = true for a no-op plan")
	}

	changed := job(t, strings.Replace(base, `"web:1"`, `"web:2"`, 1))
	p, _ = Make(context.Background(), st, []*schema.Job{changed}, nodes, "live")
	jp = p.Jobs[0]
	want := []Change{{Path: "task.image", Op: Modify, Old: "web:1", New: "web:2"}}
	if jp.Action != Update || jp.FromVersion != 4 || jp.ToVersion != 5 || jp.ChangeClass != ClassDestructive || !reflect.DeepEqual(jp.Diff, want) {
		t.Errorf("update plan = %+v", jp)
	}
	if jp.FromHash != old.Hash() || jp.ToHash != changed.Hash() || string(jp.Spec) != string(changed.Canonical()) {
		t.Error("update plan hashes or spec are wrong")
	}

	p, _ = Make(context.Background(), memState{}, []*schema.Job{changed}, nodes, "live")
	if jp := p.Jobs[0]; jp.Action != Create || jp.ToVersion != 1 || jp.FromVersion != 0 || jp.BaseRevision != 0 || jp.FromHash != "" {
		t.Errorf("create plan = %+v", jp)
	}

	if _, err := Make(context.Background(), st, []*schema.Job{old, same}, nodes, "live"); err == nil {
		t.Error("the same job twice: want an error")
	}
}

func TestDiffAndClass(t *testing.T) {
	tests := []struct {
		name   string
		change func(string) string
		want   []string
		class  ChangeClass
	}{
		{"label", func(s string) string { return strings.Replace(s, "team: a", "team: b, app.kubernetes.io/name: web", 1) },
			[]string{`+ labels["app.kubernetes.io/name"] "web"`, `~ labels.team "a" "b"`}, ClassMetadata},
		{"count", func(s string) string { return strings.Replace(s, "count: 3", "count: 5", 1) },
			[]string{"~ count 3 5"}, ClassInPlace},
		{"env", func(s string) string { return strings.Replace(s, `env: {A: "1"}`, `env: {B: "2"}`, 1) },
			[]string{`- task.env.A "1"`, `+ task.env.B "2"`}, ClassDestructive},
		{"cmd element", func(s string) string { return strings.Replace(s, `"80"`, `"81"`, 1) },
			[]string{`~ task.cmd[2] "80" "81"`}, ClassDestructive},
		{"cmd length", func(s string) string { return strings.Replace(s, `, "80"]`, `]`, 1) },
			[]string{`~ task.cmd ["serve","--port","80"] ["serve","--port"]`}, ClassDestructive},
		{"selector set", func(s string) string { return s + "selector: {match_expressions: [\"zone in (b,a)\", gpu]}\n" },
			[]string{`+ selector.match_expressions "gpu"`, `+ selector.match_expressions "zone in (a,b)"`}, ClassInPlace},
		{"input added first", func(s string) string {
			return strings.Replace(s, "cmd:", `inputs: [{source: "https://h/a", target: /a}], cmd:`, 1)
		}, []string{`+ task.inputs["/a"] {"source":"https://h/a","target":"/a"}`}, ClassDestructive},
		{"port added", func(s string) string {
			return strings.Replace(s, "cmd:", `network: bridge, ports: [{name: http, to: 8080}], cmd:`, 1)
		}, []string{`~ task.network "none" "bridge"`, `+ task.ports [{"name":"http","to":8080}]`}, ClassDestructive},
		{"rollout", func(s string) string { return s + "rollout: {strategy: canary, canary_percent: 50}\n" },
			[]string{`+ rollout.canary_count 0`, `+ rollout.canary_percent 50`, `~ rollout.strategy "rolling" "canary"`}, ClassInPlace},
	}
	old := job(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nj := job(t, tt.change(base))
			diff, err := Diff(old.Canonical(), nj.Canonical())
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range diff {
				s := map[Op]string{Add: "+", Remove: "-", Modify: "~"}[c.Op] + " " + c.Path
				if c.Old != nil {
					s += " " + value(c.Old)
				}
				if c.New != nil {
					s += " " + value(c.New)
				}
				got = append(got, s)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("diff =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if c := Classify(diff); c != tt.class {
				t.Errorf("class = %s, want %s", c, tt.class)
			}
		})
	}
}

func nodes(n int, labels func(i int) map[string]string) []Node {
	out := make([]Node, n)
	for i := range out {
		out[i] = Node{ID: fmt.Sprintf("node-%05d", i), Labels: labels(i)}
	}
	return out
}

func TestPlacement(t *testing.T) {
	inv := nodes(10, func(i int) map[string]string {
		l := map[string]string{"region": []string{"eu", "us"}[i%2]}
		if i >= 8 {
			delete(l, "region")
		}
		if i%3 == 0 {
			l["gpu"] = ""
		}
		return l
	})
	tests := []struct {
		name                   string
		src                    string
		matched, canary, waves int
		waveSizes              []int
		warn                   string
	}{
		{"ops immediate", "name: a\ntype: ops\ntask: {engine: exec, cmd: [x]}\n", 10, 0, 1, []int{10}, ""},
		{"daemon rolling 30%", "name: a\ntype: daemon\nselector: {match_labels: {region: eu}}\nrollout: {max_parallel: 30}\ntask: {engine: exec, cmd: [x]}\n",
			4, 0, 4, []int{1, 1, 1, 1}, ""},
		{"daemon rolling 50%", "name: a\ntype: daemon\nrollout: {max_parallel: 50}\ntask: {engine: exec, cmd: [x]}\n", 10, 0, 2, []int{5, 5}, ""},
		{"service count 3 canary", "name: a\ntype: service\ncount: 3\nrollout: {strategy: canary}\ntask: {engine: exec, cmd: [x]}\n", 10, 1, 2, []int{1, 1}, ""},
		{"canary percent", "name: a\ntype: daemon\nrollout: {strategy: canary, canary_percent: 25, max_parallel: 100}\ntask: {engine: exec, cmd: [x]}\n", 10, 3, 1, []int{7}, ""},
		{"notin warns", "name: a\ntype: ops\nselector: {match_expressions: [\"region notin (us)\"]}\ntask: {engine: exec, cmd: [x]}\n",
			6, 0, 1, []int{6}, `selector expression "region notin (us)" also matches 2 nodes without a "region" label: node-00008, node-00009`},
		{"no match", "name: a\nselector: {match_ids: [nope]}\ntask: {engine: exec, cmd: [x]}\n", 0, 0, 0, nil, "no node matches the selector"},
		{"ids and exists", "name: a\ntype: ops\nselector: {match_ids: [node-00000, node-00003, node-00004], match_expressions: [gpu]}\ntask: {engine: exec, cmd: [x]}\n",
			2, 0, 1, []int{2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job(t, tt.src)
			pl, warns := Place(j, inv)
			if len(pl.MatchedNodes) != tt.matched || len(pl.Canary) != tt.canary || len(pl.Waves) != tt.waves {
				t.Fatalf("placement = %+v", pl)
			}
			for i, w := range pl.Waves {
				if len(w) != tt.waveSizes[i] {
					t.Errorf("wave %d has %d nodes, want %d", i, len(w), tt.waveSizes[i])
				}
			}
			if tt.warn == "" && len(warns) > 0 || tt.warn != "" && (len(warns) == 0 || !strings.HasPrefix(warns[0], tt.warn)) {
				t.Errorf("warnings = %q, want %q", warns, tt.warn)
			}
			// Every target appears once, canary first.
			seen := map[string]bool{}
			for _, id := range append(slicesConcat(pl.Canary), slicesConcat(pl.Waves...)...) {
				if seen[id] {
					t.Errorf("node %s placed twice", id)
				}
				seen[id] = true
			}
			// Deterministic.
			again, _ := Place(j, inv)
			if !reflect.DeepEqual(pl, again) {
				t.Error("placement is not deterministic")
			}
		})
	}
}

func slicesConcat(s ...[]string) []string {
	var out []string
	for _, e := range s {
		out = append(out, e...)
	}
	return out
}

func TestExecutionsSpread(t *testing.T) {
	j := job(t, "name: a\ntype: batch\ncount: 7\ntask: {engine: exec, cmd: [x]}\n")
	pl, _ := Place(j, nodes(3, func(int) map[string]string { return nil }))
	total, most := 0, 0
	for _, n := range pl.Executions {
		total += n
		most = max(most, n)
	}
	if total != 7 || most != 3 || len(pl.Executions) != 3 {
		t.Errorf("executions = %v, want 7 spread 3/2/2", pl.Executions)
	}
}

// TestCanarySizes is the table of canary sets: canary_count and
// canary_percent count executions of batch and service jobs, nodes of ops
// and daemon jobs.
func TestCanarySizes(t *testing.T) {
	for _, c := range []struct {
		name  string
		src   string
		nodes int
		// canary executions (nodes for ops and daemon), canary nodes,
		// waves
		execs, canaryNodes, waves int
	}{
		{"service count 4 on 3 nodes, canary_count 1", "type: service\ncount: 4\nrollout: {strategy: canary, canary_count: 1}", 3, 1, 1, 3},
		{"service count 4 on 1 node: one execution first", "type: service\ncount: 4\nrollout: {strategy: canary, canary_count: 1}", 1, 1, 1, 1},
		{"service count 4 on 3 nodes, canary_count 2", "type: service\ncount: 4\nrollout: {strategy: canary, canary_count: 2}", 3, 2, 2, 2},
		{"service count 6 on 2 nodes, canary_count 3", "type: service\ncount: 6\nrollout: {strategy: canary, canary_count: 3}", 2, 3, 2, 2},
		{"service canary_count above count", "type: service\ncount: 2\nrollout: {strategy: canary, canary_count: 5}", 3, 2, 2, 0},
		{"service canary_percent 25 of 8", "type: service\ncount: 8\nrollout: {strategy: canary, canary_percent: 25, max_parallel: 100}", 4, 2, 2, 1},
		{"service canary_percent rounds up", "type: service\ncount: 3\nrollout: {strategy: canary, canary_percent: 10}", 3, 1, 1, 2},
		{"batch counts executions too", "type: batch\ncount: 5\nrollout: {strategy: canary, canary_count: 1}", 2, 1, 1, 2},
		{"ops counts nodes", "type: ops\nrollout: {strategy: canary, canary_count: 2}", 4, 2, 2, 2},
		{"daemon canary_percent of nodes", "type: daemon\nrollout: {strategy: canary, canary_percent: 50, max_parallel: 100}", 4, 2, 2, 1},
		{"rolling has no canary", "type: service\ncount: 4\nrollout: {strategy: rolling}", 3, 0, 0, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := job(t, "name: a\ntask: {engine: exec, cmd: [x]}\n"+c.src+"\n")
			pl, _ := Place(j, nodes(c.nodes, func(int) map[string]string { return nil }))
			execs := len(pl.Canary)
			if j.Type.HasCount() && pl.CanaryExecutions != nil {
				execs = 0
				for _, n := range pl.CanaryExecutions {
					execs += n
				}
			}
			if !j.Type.HasCount() && pl.CanaryExecutions != nil {
				t.Errorf("an ops or daemon canary counts nodes, not executions: %v", pl.CanaryExecutions)
			}
			if execs != c.execs || len(pl.Canary) != c.canaryNodes || len(pl.Waves) != c.waves {
				t.Fatalf("canary %d (%v on %v), waves %v; want %d on %d nodes, %d waves", execs, pl.CanaryExecutions, pl.Canary, pl.Waves, c.execs, c.canaryNodes, c.waves)
			}
			// The sets start every execution once: the shares of a node add
			// up to its executions, and a node is in at most one wave.
			sets := append([][]string{pl.Canary}, pl.Waves...)
			got := map[string]int{}
			inWave := map[string]bool{}
			for i, set := range sets {
				for _, n := range set {
					got[n] += pl.Share(i, n)
					if i > 0 {
						if inWave[n] {
							t.Errorf("node %s is in two waves", n)
						}
						inWave[n] = true
					}
				}
			}
			want := pl.Executions
			if want == nil {
				want = map[string]int{}
				for _, n := range pl.MatchedNodes {
					want[n] = 1
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("the sets start %v, want %v", got, want)
			}
		})
	}
}

// TestCanaryText says in the plan what a canary counts.
func TestCanaryText(t *testing.T) {
	svc := job(t, "name: a\ntype: service\ncount: 4\nrollout: {strategy: canary}\ntask: {engine: exec, cmd: [x]}\n")
	pl, _ := Place(svc, nodes(3, func(int) map[string]string { return nil }))
	if got := canaryText(&pl); !strings.HasPrefix(got, "1 of 4 executions (") {
		t.Errorf("service canary: %q", got)
	}
	ops := job(t, "name: a\ntype: ops\nrollout: {strategy: canary}\ntask: {engine: exec, cmd: [x]}\n")
	pl, _ = Place(ops, nodes(3, func(int) map[string]string { return nil }))
	if got := canaryText(&pl); !strings.HasPrefix(got, "1 of 3 nodes (") {
		t.Errorf("ops canary: %q", got)
	}
}

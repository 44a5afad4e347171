package plan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
)

// TestStaticPortPlacement is the table of placements of jobs with static
// host ports: two executions of one job never share a node, and what the
// matching nodes cannot take is counted, said and left unplaced.
func TestStaticPortPlacement(t *testing.T) {
	const ports = "task: {engine: exec, cmd: [serve], ports: [%s]}\n"
	tests := []struct {
		name     string
		src      string
		nodes    int
		perNode  int // the most executions on one node
		placed   int
		unplaced int
		warn     string
	}{
		{"static port, more executions than nodes",
			"name: api\ntype: service\ncount: 3\n" + strings.Replace(ports, "%s", "{name: http, port: 8080}", 1), 2, 1, 2, 1,
			"3 executions want static port 8080 (http) but only 2 matching nodes can take one each: 1 execution cannot be placed: the job runs degraded until more nodes match"},
		{"two static ports, one node",
			"name: api\ntype: service\ncount: 4\n" + strings.Replace(ports, "%s", "{name: http, port: 8080}, {name: admin, port: 9000}, {name: x}", 1), 1, 1, 1, 3,
			"4 executions want static ports 9000 (admin) and 8080 (http) but only 1 matching node can take one: 3 executions cannot be placed: the job runs degraded until more nodes match"},
		{"static port, enough nodes",
			"name: api\ntype: service\ncount: 3\n" + strings.Replace(ports, "%s", "{name: http, port: 8080}", 1), 5, 1, 3, 0, ""},
		{"static port, exactly enough nodes",
			"name: api\ntype: service\ncount: 3\n" + strings.Replace(ports, "%s", "{name: http, port: 8080}", 1), 3, 1, 3, 0, ""},
		{"dynamic ports share nodes",
			"name: api\ntype: service\ncount: 5\n" + strings.Replace(ports, "%s", "{name: http}, {name: admin, port: 0}", 1), 2, 3, 5, 0, ""},
		{"no ports share nodes",
			"name: api\ntype: service\ncount: 5\ntask: {engine: exec, cmd: [serve]}\n", 2, 3, 5, 0, ""},
		{"daemon with a static port: one per node anyway",
			"name: dns\ntype: daemon\n" + strings.Replace(ports, "%s", "{name: dns, port: 53}", 1), 3, 0, 0, 0, ""},
		{"no node matches",
			"name: api\ntype: service\ncount: 2\nselector: {match_ids: [nope]}\n" + strings.Replace(ports, "%s", "{name: http, port: 8080}", 1), 3, 0, 0, 2,
			"no node matches the selector"},
		{"canary of the placed executions",
			"name: api\ntype: service\ncount: 6\nrollout: {strategy: canary, canary_percent: 50}\n" + strings.Replace(ports, "%s", "{name: http, port: 8080}", 1), 4, 1, 4, 2,
			"6 executions want static port 8080 (http) but only 4 matching nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job(t, tt.src)
			pl, warns := Place(j, nodes(tt.nodes, func(int) map[string]string { return nil }))
			placed, most := 0, 0
			for _, n := range pl.Executions {
				placed += n
				most = max(most, n)
			}
			if placed != tt.placed || most != tt.perNode || pl.Unplaced != tt.unplaced {
				t.Errorf("placed %d (at most %d a node), unplaced %d; want %d (%d), %d: %+v", placed, most, pl.Unplaced, tt.placed, tt.perNode, tt.unplaced, pl)
			}
			switch {
			case tt.warn == "" && len(warns) > 0:
				t.Errorf("warnings %q, want none", warns)
			case tt.warn != "" && (len(warns) != 1 || !strings.HasPrefix(warns[0], tt.warn)):
				t.Errorf("warnings %q, want %q", warns, tt.warn)
			}
			// The canary and the waves start exactly the placed executions.
			sets := append([][]string{pl.Canary}, pl.Waves...)
			started := 0
			for i, set := range sets {
				for _, n := range set {
					started += pl.Share(i, n)
				}
			}
			if j.Type.HasCount() && started != placed {
				t.Errorf("the sets start %d executions, %d are placed", started, placed)
			}
		})
	}
}

// TestUnplacedInPlans shows what cannot be placed in the plan text and its
// JSON, as docs/spec.md section 4 asks ("the plan says how many cannot be
// placed and why").
func TestUnplacedInPlans(t *testing.T) {
	j := job(t, "name: api\ntype: service\ncount: 3\ntask: {engine: exec, cmd: [serve], ports: [{name: http, port: 8080}]}\n")
	p, err := Make(t.Context(), memState{}, []*schema.Job{j}, nodes(2, func(int) map[string]string { return nil }), "nodes.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	WriteText(&text, p)
	for _, want := range []string{
		"    executions: 2 on 2 nodes; 1 more cannot be placed\n",
		"    warning: 3 executions want static port 8080 (http) but only 2 matching nodes can take one each: 1 execution cannot be placed: the job runs degraded until more nodes match\n",
	} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("plan text lacks %q:\n%s", want, text.String())
		}
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"unplaced":1`)) || !bytes.Contains(b, []byte(`1 execution cannot be placed`)) {
		t.Errorf("plan JSON lacks the unplaced execution:\n%s", b)
	}

	none := job(t, "name: api\ntype: service\ncount: 2\nselector: {match_ids: [nope]}\ntask: {engine: exec, cmd: [serve]}\n")
	p, _ = Make(t.Context(), memState{}, []*schema.Job{none}, nodes(2, func(int) map[string]string { return nil }), "nodes.yaml")
	text.Reset()
	WriteText(&text, p)
	if !strings.Contains(text.String(), "    executions: none placed; 2 cannot be placed\n") {
		t.Errorf("plan text of a job that no node matches:\n%s", text.String())
	}
}

// TestPortAndProbeDiffs: ports are keyed by name in a diff, so that adding
// one never shifts the others, and a probe is part of the rollout, whose
// change keeps executions on nodes that still match.
func TestPortAndProbeDiffs(t *testing.T) {
	const old = "name: api\ntype: service\ntask: {engine: docker, image: 'api:1', network: bridge, ports: [{name: http, to: 8080}, {name: metrics, port: 9100}]}\n" +
		"rollout: {health_check: {probe: {http: {port: http, path: /healthz}}}}\n"
	tests := []struct {
		name  string
		new   string
		want  []string
		class ChangeClass
	}{
		{"port added before the others", strings.Replace(old, "ports: [", "ports: [{name: admin, port: 9000}, ", 1),
			[]string{`+ task.ports["admin"] {"name":"admin","port":9000}`}, ClassDestructive},
		{"port changed", strings.Replace(old, "port: 9100", "port: 9101", 1),
			[]string{`~ task.ports["metrics"].port 9100 9101`}, ClassDestructive},
		{"probe path", strings.Replace(old, "/healthz", "/ready", 1),
			[]string{`~ rollout.health_check.probe.http.path "/healthz" "/ready"`}, ClassInPlace},
		{"probe removed", strings.Replace(old, "{health_check: {probe: {http: {port: http, path: /healthz}}}}", "{}", 1),
			[]string{`- rollout.health_check.probe {"http":{"path":"/healthz","port":"http","status":[]},"timeout":"2s"}`}, ClassInPlace},
	}
	a := job(t, old)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			diff, err := Diff(a.Canonical(), job(t, tt.new).Canonical())
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
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("diff =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if c := Classify(diff); c != tt.class {
				t.Errorf("class = %s, want %s", c, tt.class)
			}
		})
	}
}

package validate_test

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/json"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

func compile(t *testing.T, src string) (*schema.Job, lang.Diagnostics) {
	t.Helper()
	trees, diags := json.Parse("job.json", []byte(src), lang.Options{})
	if len(diags) > 0 || len(trees) != 1 {
		t.Fatalf("parse %s: %v", src, diags)
	}
	return validate.Job(trees[0])
}

// TestSpellingsHashTheSame proves that defaults written out, other
// spellings of the same values and other orders give one canonical form.
func TestSpellingsHashTheSame(t *testing.T) {
	groups := [][]string{
		{
			`{"name":"a","task":{"engine":"exec","cmd":["true"]}}`,
			`{"name":"a","namespace":"default","type":"batch","count":1,"priority":50,"restart_policy":"on-failure",
			  "description":"","labels":{},"meta":{},"api_version":"muster/v1",
			  "selector":{"match_labels":{},"match_expressions":[],"match_ids":[]},
			  "task":{"engine":"exec","cmd":["true"],"env":{},"workdir":"","network":"none","inputs":[],"outputs":[],
			          "resources":{"cpus":1,"memory":"256M"}},
			  "rollout":{"strategy":"immediate","max_parallel":10,"auto_promote":false,"max_failed_nodes":10,
			             "max_failed_nodes_percent":10,"no_auto_rollback":false,
			             "health_check":{"deadline":"5m","min_healthy_time":30,"interval":"10s","failure_threshold":3,
			                             "success_threshold":2,"max_error_rate":0.1}},
			  "timeouts":{"execution":0,"queue":"0s","total":"0"}}`,
			`{"task":{"cmd":["true"],"engine":"exec","resources":{"cpus":"1000m","memory":"256Mi"}},"name":"a","labels":null}`,
		},
		{
			`{"name":"w","type":"service","task":{"engine":"docker","image":"web:1"},
			  "selector":{"match_expressions":["region == eu","zone in (b, a)","zone in (a,b)"],"match_ids":["n2","n1","n2"]},
			  "rollout":{"strategy":"canary","health_check":{"deadline":300}}}`,
			`{"name":"w","type":"service","restart_policy":"always","task":{"engine":"docker","image":"web:1","entrypoint":[],"resources":{"memory":"0.25G"}},
			  "selector":{"match_expressions":["zone in (a,b)","region=eu"],"match_ids":["n1","n2"]},
			  "rollout":{"strategy":"canary","canary_count":1}}`,
		},
	}
	for gi, g := range groups {
		var want string
		for i, src := range g {
			if strings.Contains(src, "0.25G") {
				continue // memory is whole M or G only; kept as a negative check below
			}
			j, diags := compile(t, src)
			if j == nil {
				t.Fatalf("group %d file %d: %v", gi, i, diags)
			}
			got := string(j.Canonical())
			if i == 0 {
				want = got
			} else if got != want {
				t.Errorf("group %d file %d:\n got %s\nwant %s", gi, i, got, want)
			}
		}
	}
	if _, diags := compile(t, `{"name":"a","task":{"engine":"exec","cmd":["x"],"resources":{"memory":"0.25G"}}}`); !diags.HasErrors() {
		t.Error("memory 0.25G: want an error")
	}
}

func TestCanonicalShape(t *testing.T) {
	tests := []struct {
		name, src string
		has       []string
		lacks     []string
	}{
		{"ops has no count", `{"name":"a","type":"ops","task":{"engine":"exec","cmd":["x"]}}`,
			[]string{`"restart_policy":"on-failure"`, `"strategy":"immediate"`}, []string{`"count"`}},
		{"daemon defaults", `{"name":"a","type":"daemon","task":{"engine":"wasm","image":"/m.wasm"}}`,
			[]string{`"restart_policy":"always"`, `"strategy":"rolling"`, `"image":"/m.wasm"`}, []string{`"count"`, `"entrypoint"`}},
		{"exec has no image", `{"name":"a","task":{"engine":"exec","cmd":["x"]}}`,
			[]string{`"count":1`}, []string{`"image"`, `"entrypoint"`, `"canary_count"`}},
		{"docker has entrypoint", `{"name":"a","task":{"engine":"docker","image":"x"}}`,
			[]string{`"entrypoint":[]`, `"image":"x"`}, nil},
		{"canary percent", `{"name":"a","rollout":{"strategy":"canary","canary_percent":20},"task":{"engine":"docker","image":"x"}}`,
			[]string{`"canary_count":0`, `"canary_percent":20`}, nil},
		{"canary default", `{"name":"a","rollout":{"strategy":"canary"},"task":{"engine":"docker","image":"x"}}`,
			[]string{`"canary_count":1`, `"canary_percent":0`}, nil},
		{"memory and cpus", `{"name":"a","task":{"engine":"exec","cmd":["x"],"resources":{"cpus":"500m","memory":"2048Mi"}}}`,
			[]string{`"cpus":0.5`, `"memory":"2G"`}, nil},
		{"inputs sorted", `{"name":"a","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"sha256:` + strings.Repeat("a", 64) + `","target":"/z"},{"target":"/b","source":"https://h/x"}]}}`,
			[]string{`"inputs":[{"source":"https://h/x","target":"/b"},{"source":"sha256:`}, nil},
		{"durations", `{"name":"a","task":{"engine":"exec","cmd":["x"]},"timeouts":{"total":5400,"queue":"90s"}}`,
			[]string{`"total":"1h30m0s"`, `"queue":"1m30s"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, diags := compile(t, tt.src)
			if j == nil {
				t.Fatal(diags)
			}
			got := string(j.Canonical())
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("canonical form lacks %s:\n%s", s, got)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(got, s) {
					t.Errorf("canonical form holds %s:\n%s", s, got)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		src  string
		want []string // "path: message fragment", in source order
	}{
		{`{"task":{"engine":"exec","cmd":["x"]}}`, []string{"name: a job needs a name"}},
		{`{"name":"a"}`, []string{"task: a job needs a task"}},
		{`{"name":"A_b","task":{"engine":"exec","cmd":["x"]}}`, []string{`name: name "A_b" is invalid`}},
		{`{"name":"a","nmae":"b","task":{"engine":"exec","cmd":["x"]}}`, []string{`nmae: unknown field "nmae"; did you mean "name"?`}},
		{`{"name":"a","image":"x","task":{"engine":"docker","image":"x"}}`, []string{`image: unknown field "image" here; it belongs in task.image`}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"resources":{"cpu":1}}}`, []string{`task.resources.cpu: unknown field "cpu"; did you mean "cpus"?`}},
		{`{"name":"a","type":"ops","count":2,"task":{"engine":"exec","cmd":["x"]}}`, []string{"count: count applies only to batch and service jobs"}},
		{`{"name":"a","type":"job","task":{"engine":"exec","cmd":["x"]}}`, []string{`type: type "job" is not one of`}},
		{`{"name":"a","priority":101,"task":{"engine":"exec","cmd":["x"]}}`, []string{"priority: priority is 101; it must be between 0 and 100"}},
		{`{"name":"a","priority":1.5,"task":{"engine":"exec","cmd":["x"]}}`, []string{"priority: priority must be a whole number, not 1.5"}},
		{`{"name":"a","count":9007199254740993,"task":{"engine":"exec","cmd":["x"]}}`, []string{"count: count is 9007199254740993, beyond 2^53"}},
		{`{"name":"a","task":{"engine":"exec"}}`, []string{"task.cmd: an exec task needs a command"}},
		{`{"name":"a","task":{"engine":"exec","cmd":[]}}`, []string{"task.cmd: an exec task needs a command"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"image":"y"}}`, []string{"task.image: an exec task runs task.cmd on the node and takes no image"}},
		{`{"name":"a","task":{"engine":"docker"}}`, []string{"task.image: a docker task needs an image"}},
		{`{"name":"a","task":{"engine":"wasm","image":"m.wasm"}}`, []string{"task.image: task.image \"m.wasm\": a wasm module is"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"entrypoint":["y"]}}`, []string{"task.entrypoint: entrypoint applies only to docker tasks"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"env":{"PATH":"/x","MUSTER_X":"1","1A":"2"}}}`, []string{
			"task.env.PATH: PATH cannot be set", "task.env.MUSTER_X: environment variable \"MUSTER_X\": the prefix MUSTER_ is reserved", "task.env.1A: environment variable name \"1A\" is invalid"}},
		{`{"name":"a","meta":{"muster.dev/x":"1"},"task":{"engine":"exec","cmd":["x"]}}`, []string{"meta.muster.dev/x: meta key \"muster.dev/x\": the prefix muster.dev/ is reserved"}},
		{`{"name":"a","labels":{"a b":"x","ok":"bad value"},"task":{"engine":"exec","cmd":["x"]}}`, []string{"labels.a b: invalid label key", "labels.ok: invalid label value"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"workdir":"/a/../b"}}`, []string{"task.workdir: task.workdir \"/a/../b\" must not contain .."}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"workdir":"rel"}}`, []string{"task.workdir: task.workdir \"rel\" must be an absolute path"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"resources":{"cpus":0,"memory":"2M"}}}`, []string{
			"task.resources.cpus: task.resources.cpus is 0; it must be more than 0 and at most 1024", "task.resources.memory: task.resources.memory is 2M; at least 4M is needed"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"resources":{"cpus":"2 cores"}}}`, []string{"task.resources.cpus: task.resources.cpus: invalid cpus"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"ftp://x","target":"/a"},{"source":"file:///x","target":"/a"}]}}`, []string{
			"task.inputs[0].source: task.inputs[0].source \"ftp://x\": a source is", "task.inputs[1].target: input target \"/a\" is used twice"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"job:default/b@sha256:abc","target":"/a"}]}}`, []string{"task.inputs[0].source: task.inputs[0].source \"job:default/b@sha256:abc\": a job source is"}},
		{`{"name":"a","task":{"engine":"exec","cmd":["x"],"outputs":[{"path":"/o"},{"path":"/o"},{"path":"o"}]}}`, []string{
			"task.outputs[1].path: output path \"/o\" is listed twice", "task.outputs[2].path: task.outputs[2].path \"o\" must be an absolute path"}},
		{`{"name":"a","rollout":{"canary_count":2},"task":{"engine":"exec","cmd":["x"]}}`, []string{"rollout.canary_count: rollout.canary_count applies only to the canary strategy"}},
		{`{"name":"a","rollout":{"strategy":"canary","canary_count":2,"canary_percent":5},"task":{"engine":"exec","cmd":["x"]}}`, []string{"rollout.canary_percent: set canary_count or canary_percent, not both"}},
		{`{"name":"a","rollout":{"max_parallel":0,"health_check":{"failure_threshold":0,"max_error_rate":1.5,"interval":"-1s"}},"task":{"engine":"exec","cmd":["x"]}}`, []string{
			"rollout.max_parallel: rollout.max_parallel is 0; it must be between 1 and 100",
			"rollout.health_check.failure_threshold: rollout.health_check.failure_threshold is 0; it must be at least 1",
			"rollout.health_check.max_error_rate: rollout.health_check.max_error_rate is 1.5; it must be between 0 and 1",
			"rollout.health_check.interval: rollout.health_check.interval: invalid duration \"-1s\": must not be negative"}},
		{`{"name":"a","selector":{"match_expressions":["a in ()"],"match_ids":[""]},"task":{"engine":"exec","cmd":["x"]}}`, []string{
			"selector.match_expressions[0]: in \"a in ()\": the set of values is empty", "selector.match_ids[0]: a node id must not be empty"}},
		{`{"name":"a","name":"b","task":{"engine":"exec","cmd":["x"]}}`, []string{`name: duplicate field "name"`}},
		{`{"name":"a","api_version":"muster/v2","task":{"engine":"exec","cmd":["x"]}}`, []string{`api_version: api_version is "muster/v2"; this muster reads "muster/v1"`}},
		{`{"name":"a","timeouts":{"total":1.5},"task":{"engine":"exec","cmd":["x"]}}`, []string{"timeouts.total: timeouts.total: 1.5 is not a whole number of seconds"}},
		{`{"name":"a","task":{"engine":"docker","image":"Web:1"}}`, []string{"task.image: task.image \"Web:1\" is not a valid image reference"}},
	}
	for _, tt := range tests {
		j, diags := compile(t, tt.src)
		if j != nil {
			t.Errorf("%s: want errors, got a job", tt.src)
			continue
		}
		if len(diags) != len(tt.want) {
			t.Errorf("%s: got %d diagnostics, want %d:\n%v", tt.src, len(diags), len(tt.want), diags)
			continue
		}
		for i, d := range diags {
			got := d.Path + ": " + d.Message
			if !strings.HasPrefix(got, tt.want[i]) {
				t.Errorf("%s:\n got %s\nwant %s...", tt.src, got, tt.want[i])
			}
			if d.Range.Start.Line == 0 {
				t.Errorf("%s: diagnostic without a position: %v", tt.src, d)
			}
		}
	}
}

func TestNormalizeIsIdempotent(t *testing.T) {
	j, diags := compile(t, `{"name":"a","type":"service","selector":{"match_expressions":["b notin (y,x)","a==1"]},
		"task":{"engine":"docker","image":"x","inputs":[{"source":"https://h/b","target":"/b"},{"source":"https://h/a","target":"/a"}]},
		"rollout":{"strategy":"canary","canary_percent":25}}`)
	if j == nil {
		t.Fatal(diags)
	}
	before := string(j.Canonical())
	schema.Normalize(j)
	if after := string(j.Canonical()); after != before {
		t.Errorf("Normalize changed a normalized job:\n%s\n%s", before, after)
	}
}

func TestCharClasses(t *testing.T) {
	for _, tt := range []struct {
		s        string
		dns, env bool
	}{
		{"web", true, true}, {"web-1", true, false}, {"-web", false, false}, {"web-", false, false},
		{"Web", false, true}, {"_x", false, true}, {"1a", true, false}, {"", false, false}, {"a_b", false, true},
	} {
		if got := validate.IsDNSLabelForTest(tt.s); got != tt.dns {
			t.Errorf("isDNSLabel(%q) = %v", tt.s, got)
		}
		if got := validate.IsEnvKeyForTest(tt.s); got != tt.env {
			t.Errorf("isEnvKey(%q) = %v", tt.s, got)
		}
	}
}

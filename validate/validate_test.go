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
	cases := make([]errorCase, len(tests))
	for i, tt := range tests {
		cases[i] = errorCase{src: tt.src, want: tt.want}
	}
	checkErrors(t, cases)
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

// TestInputEdges checks the characters, keys and references a job may not
// hold, one rule per case, with the path and message of the error.
func TestInputEdges(t *testing.T) {
	const hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	exec := func(extra string) string {
		return `{"name":"a","task":{"engine":"exec","cmd":["x"]` + extra + `}}`
	}
	tests := []struct {
		name, src string
		want      string // "path: message fragment"; "" for a valid job
	}{
		// NUL bytes, wherever a string is.
		{"NUL in cmd", `{"name":"a","task":{"engine":"exec","cmd":["x","a\u0000b"]}}`, "task.cmd[1]: task.cmd[1] holds a NUL byte at character 2"},
		{"NUL in entrypoint", `{"name":"a","task":{"engine":"docker","image":"w","entrypoint":["\u0000"]}}`, "task.entrypoint[0]: task.entrypoint[0] holds a NUL byte at character 1"},
		{"NUL in workdir", exec(`,"workdir":"/srv\u0000"`), "task.workdir: task.workdir holds a NUL byte"},
		{"NUL in env key", exec(`,"env":{"A\u0000":"x"}`), "task.env.A\x00: a key of task.env holds a NUL byte"},
		{"NUL in env value", exec(`,"env":{"A":"x\u0000"}`), "task.env.A: task.env.A holds a NUL byte"},
		{"NUL in image", `{"name":"a","task":{"engine":"docker","image":"web\u0000:1"}}`, "task.image: task.image holds a NUL byte"},
		{"NUL in wasm module path", `{"name":"a","task":{"engine":"wasm","image":"/m\u0000.wasm"}}`, "task.image: task.image holds a NUL byte"},
		{"NUL in input source", exec(`,"inputs":[{"source":"file:///a\u0000","target":"/a"}]`), "task.inputs[0].source: task.inputs[0].source holds a NUL byte"},
		{"NUL in input target", exec(`,"inputs":[{"source":"https://h/a","target":"/a\u0000"}]`), "task.inputs[0].target: task.inputs[0].target holds a NUL byte"},
		{"NUL in output path", exec(`,"outputs":[{"path":"/o\u0000"}]`), "task.outputs[0].path: task.outputs[0].path holds a NUL byte"},
		{"NUL in description", `{"name":"a","description":"\u0000","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds a NUL byte"},
		{"NUL in a duration", `{"name":"a","task":{"engine":"exec","cmd":["x"]},"timeouts":{"total":"5s\u0000"}}`, "timeouts.total: timeouts.total holds a NUL byte"},

		// Control characters.
		{"ANSI escape in description", `{"name":"a","description":"\u001b[31mred","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds the control character U+001B (escape) at character 1"},
		{"BEL in description", `{"name":"a","description":"ding\u0007","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds the control character U+0007 (BEL) at character 5"},
		{"DEL in description", `{"name":"a","description":"\u007f","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds the control character U+007F (DEL)"},
		{"C1 CSI in description", `{"name":"a","description":"é\u009b2J","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds the control character U+009B (CSI) at character 2"},
		{"NEL in description", `{"name":"a","description":"\u0085","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds the control character U+0085 at"},
		{"CR in description", `{"name":"a","description":"a\r\nb","task":{"engine":"exec","cmd":["x"]}}`, "description: description holds the control character U+000D (carriage return)"},
		{"escape in a name", `{"name":"a\u001b","task":{"engine":"exec","cmd":["x"]}}`, "name: name holds the control character U+001B"},
		{"escape in a namespace", `{"name":"a","namespace":"\u001b[2J","task":{"engine":"exec","cmd":["x"]}}`, "namespace: namespace holds the control character U+001B"},
		{"escape in a label key", `{"name":"a","labels":{"a\u001b":"x"},"task":{"engine":"exec","cmd":["x"]}}`, "labels.a\x1b: a key of labels holds the control character U+001B"},
		{"escape in a label value", `{"name":"a","labels":{"a":"\u001b"},"task":{"engine":"exec","cmd":["x"]}}`, "labels.a: labels.a holds the control character U+001B"},
		{"escape in a meta key", `{"name":"a","meta":{"\u001b]0;x\u0007":"x"},"task":{"engine":"exec","cmd":["x"]}}`, "meta.\x1b]0;x\a: a key of meta holds the control character U+001B"},
		{"newline in a meta key", `{"name":"a","meta":{"a\nb":"x"},"task":{"engine":"exec","cmd":["x"]}}`, "meta.a\nb: a key of meta holds the control character U+000A (newline)"},
		{"escape in a meta value", `{"name":"a","meta":{"k":"\u001b[1m"},"task":{"engine":"exec","cmd":["x"]}}`, "meta.k: meta.k holds the control character U+001B"},
		{"escape in cmd", `{"name":"a","task":{"engine":"exec","cmd":["echo","\u001b[2J"]}}`, "task.cmd[1]: task.cmd[1] holds the control character U+001B"},
		{"escape in env", exec(`,"env":{"A":"\u001b"}`), "task.env.A: task.env.A holds the control character U+001B"},
		{"tab in a path", exec(`,"workdir":"/a\tb"`), "task.workdir: task.workdir holds the control character U+0009 (tab)"},
		{"newline in a source", exec(`,"inputs":[{"source":"https://h/a\n","target":"/a"}]`), "task.inputs[0].source: task.inputs[0].source holds the control character U+000A (newline)"},
		{"newline in an image", `{"name":"a","task":{"engine":"docker","image":"web\n"}}`, "task.image: task.image holds the control character U+000A (newline)"},
		{"newline in a node id", `{"name":"a","selector":{"match_ids":["n\n1"]},"task":{"engine":"exec","cmd":["x"]}}`, "selector.match_ids[0]: selector.match_ids[0] holds the control character U+000A"},
		{"escape in an expression", `{"name":"a","selector":{"match_expressions":["a=\u001b"]},"task":{"engine":"exec","cmd":["x"]}}`, "selector.match_expressions[0]: selector.match_expressions[0] holds the control character U+001B"},
		{"tab and newline where text has lines", `{"name":"a","description":"one\n\ttwo","meta":{"k":"a\tb\nc"},
			"task":{"engine":"docker","image":"w","entrypoint":["sh\n"],"cmd":["-c","a\n\tb"],"env":{"SCRIPT":"a\nb\tc"}}}`, ""},
		{"printable Unicode", `{"name":"a","description":"ünïcödé — ✓ \u00a0 \u200b","meta":{"ключ":"値"},"task":{"engine":"exec","cmd":["x"]}}`, ""},

		// Reserved keys, in any case.
		{"env muster_ lower case", exec(`,"env":{"muster_x":"1"}`), `task.env.muster_x: environment variable "muster_x": the prefix MUSTER_ is reserved, in any case`},
		{"env Muster_ mixed case", exec(`,"env":{"Muster_X":"1"}`), `task.env.Muster_X: environment variable "Muster_X": the prefix MUSTER_ is reserved, in any case`},
		{"env path", exec(`,"env":{"path":"/x"}`), `task.env.path: environment variable "path" cannot be set: it looks like PATH`},
		{"env Path", exec(`,"env":{"Path":"/x"}`), `task.env.Path: environment variable "Path" cannot be set: it looks like PATH`},
		{"env PATH", exec(`,"env":{"PATH":"/x"}`), "task.env.PATH: PATH cannot be set"},
		{"env look-alikes that are not", exec(`,"env":{"PATHS":"1","MY_PATH":"2","MUSTER":"3","MUSTERX":"4","XMUSTER_":"5"}`), ""},
		{"meta Muster.Dev/", `{"name":"a","meta":{"Muster.Dev/x":"1"},"task":{"engine":"exec","cmd":["x"]}}`, `meta.Muster.Dev/x: meta key "Muster.Dev/x": the prefix muster.dev/ is reserved`},
		{"meta MUSTER.DEV/", `{"name":"a","meta":{"MUSTER.DEV/x":"1"},"task":{"engine":"exec","cmd":["x"]}}`, `meta.MUSTER.DEV/x: meta key "MUSTER.DEV/x"`},
		{"meta muſter.dev/ (long s folds to s)", `{"name":"a","meta":{"muſter.dev/x":"1"},"task":{"engine":"exec","cmd":["x"]}}`, `meta.muſter.dev/x: meta key "muſter.dev/x"`},
		{"meta muster.devx is free", `{"name":"a","meta":{"muster.devx":"1","x/muster.dev/":"2"},"task":{"engine":"exec","cmd":["x"]}}`, ""},

		// Namespaces isolate.
		{"job input of another namespace", `{"name":"a","namespace":"shop","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"job:bank/b@sha256:` + hex + `","target":"/a"}]}}`,
			`task.inputs[0].source: task.inputs[0].source refers to the namespace "bank": a job may refer only to outputs of its own namespace (shop)`},
		{"job input of default from another namespace", `{"name":"a","namespace":"shop","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"job:default/b@sha256:` + hex + `#/o","target":"/a"}]}}`,
			`task.inputs[0].source: task.inputs[0].source refers to the namespace "default": a job may refer only to outputs of its own namespace (shop)`},
		{"job input of another namespace from default", exec(`,"inputs":[{"source":"job:shop/b@sha256:` + hex + `","target":"/a"}]`),
			`task.inputs[0].source: task.inputs[0].source refers to the namespace "shop": a job may refer only to outputs of its own namespace (default)`},
		{"job input of its own namespace", `{"name":"a","namespace":"shop","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"job:shop/b@sha256:` + hex + `","target":"/a"}]}}`, ""},
		{"job input of the default namespace, written out", `{"name":"a","namespace":"default","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"job:default/b@sha256:` + hex + `","target":"/a"}]}}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, diags := compile(t, tt.src)
			if tt.want == "" {
				if j == nil {
					t.Fatalf("want a valid job, got:\n%v", diags)
				}
				return
			}
			if j != nil || len(diags) != 1 {
				t.Fatalf("want one error, got %d:\n%v", len(diags), diags)
			}
			if got := diags[0].Path + ": " + diags[0].Message; !strings.HasPrefix(got, tt.want) {
				t.Errorf("\n got %s\nwant %s...", got, tt.want)
			}
			if diags[0].Range.Start.Line == 0 {
				t.Errorf("diagnostic without a position: %v", diags[0])
			}
		})
	}
}

// TestHealthCheckFeasibility checks docs/spec.md section 2's rule: for service and
// daemon jobs the deadline is at least max(min_healthy_time,
// success_threshold × interval).
func TestHealthCheckFeasibility(t *testing.T) {
	job := func(typ, hc string) string {
		return `{"name":"a","type":"` + typ + `","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":` + hc + `}}`
	}
	tests := []struct {
		name, src string
		want      string // message fragment, "" for a valid job
		at        string // the text of src the error points at
	}{
		{"the issue's job", job("service", `{"min_healthy_time":"2s","deadline":"15s"}`),
			"rollout.health_check.deadline is 15s, shorter than max(min_healthy_time 2s, success_threshold 2 × interval 10s) = 20s", `"15s"`},
		{"a daemon too", job("daemon", `{"min_healthy_time":"2s","deadline":"15s"}`), "= 20s", `"15s"`},
		{"min_healthy_time decides", job("service", `{"min_healthy_time":"10m","deadline":"9m59s"}`), "= 10m0s: no execution could ever become healthy in time; make the deadline at least 10m0s", `"9m59s"`},
		{"the checks decide", job("service", `{"interval":"1m","success_threshold":5,"deadline":"4m"}`), "max(min_healthy_time 30s, success_threshold 5 × interval 1m0s) = 5m0s", `"4m"`},
		{"the default deadline, at health_check", job("service", `{"min_healthy_time":"6m"}`), "deadline is 5m0s (the default), shorter than", `"health_check"`},
		{"seconds count as written", job("service", `{"deadline":19}`), "deadline is 19s, shorter than", `19`},
		{"beyond any duration", job("service", `{"interval":"1h","success_threshold":9007199254740992}`), "is longer than any duration", `"health_check"`},
		{"exactly enough", job("service", `{"min_healthy_time":"2s","deadline":"20s"}`), "", ""},
		{"the defaults", job("service", `{}`), "", ""},
		{"defaults of a daemon", `{"name":"a","type":"daemon","task":{"engine":"exec","cmd":["x"]}}`, "", ""},
		{"batch jobs run to completion", job("batch", `{"min_healthy_time":"2s","deadline":"15s"}`), "", ""},
		{"ops jobs too", job("ops", `{"min_healthy_time":"1h","deadline":"1s"}`), "", ""},
		{"a zero interval", job("service", `{"interval":0,"min_healthy_time":"1s","deadline":"1s"}`), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, diags := compile(t, tt.src)
			if tt.want == "" {
				if j == nil {
					t.Fatalf("want a valid job, got:\n%v", diags)
				}
				return
			}
			if j != nil || len(diags) != 1 {
				t.Fatalf("want one error, got %d:\n%v", len(diags), diags)
			}
			d := diags[0]
			if d.Path != "rollout.health_check.deadline" || !strings.Contains(d.Message, tt.want) {
				t.Errorf("got %s: %s\nwant rollout.health_check.deadline: ...%s...", d.Path, d.Message, tt.want)
			}
			if col := strings.LastIndex(tt.src, tt.at) + 1; d.Range.Start.Line != 1 || d.Range.Start.Column != col {
				t.Errorf("at %d:%d, want 1:%d (%s) in %s", d.Range.Start.Line, d.Range.Start.Column, col, tt.at, tt.src)
			}
		})
	}
	// Another error in the health check is reported alone, not as an
	// impossible deadline too.
	if _, diags := compile(t, job("service", `{"deadline":"1s","interval":"soon"}`)); len(diags) != 1 || diags[0].Path != "rollout.health_check.interval" {
		t.Errorf("a bad interval: want its error only, got:\n%v", diags)
	}
}

func TestBadChar(t *testing.T) {
	tests := []struct {
		s     string
		multi bool
		r     rune
		at    int // 0: clean
	}{
		{"plain text", false, 0, 0},
		{"", false, 0, 0},
		{"a\tb", false, '\t', 2},
		{"a\tb\nc", true, 0, 0},
		{"a\r\n", true, '\r', 2},
		{"\x00", true, 0, 1},
		{"é\x1b[0m", true, 0x1b, 2},
		{"ab\x7f", false, 0x7f, 3},
		{"日本\u0080", false, 0x80, 3},
		{"x\u009f", true, 0x9f, 2},
		{"\u00a0\u00ff\u0100\u2028", false, 0, 0}, // printable or not control: left alone
	}
	for _, tt := range tests {
		r, at, bad := validate.BadCharForTest(tt.s, tt.multi)
		if bad != (tt.at != 0) || at != tt.at || bad && r != tt.r {
			t.Errorf("badChar(%q, multi=%v) = %U, %d, %v; want %U at %d", tt.s, tt.multi, r, at, bad, tt.r, tt.at)
		}
	}
}

func TestHasPrefixFold(t *testing.T) {
	for _, tt := range []struct {
		s, prefix string
		want      bool
	}{
		{"MUSTER_X", "MUSTER_", true}, {"muster_x", "MUSTER_", true}, {"Muster_", "MUSTER_", true},
		{"MUSTER", "MUSTER_", false}, {"XMUSTER_", "MUSTER_", false}, {"", "MUSTER_", false},
		{"muſter.dev/a", "muster.dev/", true}, {"MUSTER.DEV/a", "muster.dev/", true}, {"muster.devx", "muster.dev/", false},
		{"m\xffster.dev/", "muster.dev/", false},
	} {
		if got := validate.HasPrefixFoldForTest(tt.s, tt.prefix); got != tt.want {
			t.Errorf("hasPrefixFold(%q, %q) = %v", tt.s, tt.prefix, got)
		}
	}
}

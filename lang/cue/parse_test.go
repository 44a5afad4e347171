package cue

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/validate"
)

func diagLines(ds lang.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// TestParseErrors pins the diagnostics of broken files, with their exact
// line:col, and checks that each problem is reported once.
func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src string
		opts      lang.Options
		want      string
	}{{
		name: "syntax",
		src:  "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"]\n",
		want: "in.cue:2:35: error: expected '}', found 'EOF'\n",
	}, {
		name: "syntax columns count characters",
		src:  "description: \"héllo\" }\n",
		want: "in.cue:1:22: error: expected 'EOF', found '}'\n",
	}, {
		name: "unknown field with a hint",
		src:  "name: \"web\"\ntask: {\n\tengine: \"docker\"\n\timage: \"a\"\n\timgae: \"b\"\n}\n",
		want: "in.cue:5:2: error: unknown field \"imgae\"; did you mean \"image\"? (task.imgae)\n",
	}, {
		name: "non-concrete value",
		src:  "name: \"web\"\ntask: {engine: \"docker\", image: string}\n",
		want: "in.cue:2:33: error: field task.image is not concrete (string): give it a value or a default (task.image)\n",
	}, {
		name: "conflict inside the file, and a rule the validator states",
		src:  "name: \"web\"\ntask: {engine: \"docker\", image: \"a\" & \"b\"}\npriority: 500\n",
		want: "in.cue:2:33: error: conflicting values \"b\" and \"a\" (task.image)\n" +
			"in.cue:3:11: error: priority is 500; it must be between 0 and 100 (priority)\n",
	}, {
		name: "count on an ops job",
		src:  "name: \"web\"\ntype: \"ops\"\ncount: 3\ntask: {engine: \"exec\", cmd: [\"x\"]}\n",
		want: "in.cue:3:1: error: count applies only to batch and service jobs; an ops job runs once on every matching node (count)\n",
	}, {
		name: "canary sizes both set: once, by the validator",
		src:  "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\nrollout: {strategy: \"canary\", canary_count: 2, canary_percent: 3}\n",
		want: "in.cue:3:48: error: set canary_count or canary_percent, not both (rollout.canary_percent)\n",
	}, {
		name: "list element paths",
		src:  "name: \"web\"\ntask: {\n\tengine: \"exec\"\n\tcmd: [\"x\"]\n\tinputs: [\n\t\t{source: \"https://example.com/a\", target: \"/in/a\"},\n\t\t{source: \"https://example.com/b\", target: \"in/b\"},\n\t]\n}\n",
		want: "in.cue:7:45: error: task.inputs[1].target \"in/b\" must be an absolute path (starting with /) (task.inputs[1].target)\n",
	}, {
		name: "missing name and task",
		src:  "namespace: \"prod\"\n",
		want: "in.cue:1:1: error: a job needs a name (name)\n" +
			"in.cue:1:1: error: a job needs a task (task.engine and what to run) (task)\n",
	}, {
		name: "undefined reference",
		src:  "name: \"web\"\ntask: {engine: \"exec\", cmd: [_prog]}\n",
		want: "in.cue:2:30: error: reference \"_prog\" not found (task.cmd)\n",
	}, {
		name: "a default of the file against a default of #Job",
		src:  "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\npriority: int | *30\n",
		want: "in.cue:3:11: error: field priority is not concrete (50 | >=0 & <=100 & math.MultipleOf(1) & int | 30): give it a value or a default (priority)\n",
	}, {
		name: "bytes",
		src:  "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\ndescription: 'abc'\n",
		want: "in.cue:3:14: error: description is a bytes value; job fields hold strings: write \"...\", not '...' (description)\n",
	}, {
		name: "top level not a struct",
		src:  "\"web\"\n",
		want: "in.cue:1:1: error: the top level of a CUE job file must be a job (a struct), or hold jobs: [...]\n",
	}, {
		name: "jobs not a list",
		src:  "jobs: {web: {name: \"web\"}}\n",
		want: "in.cue:1:7: error: jobs must be a list of jobs, not struct (jobs)\n",
	}, {
		name: "fields beside jobs, and one bad job of two",
		src:  "x: 1\njobs: [\n\t{name: \"a\", task: {engine: \"exec\", cmd: [\"x\"]}},\n\t{name: \"B\", task: {engine: \"exec\", cmd: [\"x\"]}},\n]\n",
		want: "in.cue:1:1: error: field \"x\" is not allowed beside jobs: a file with jobs: [...] holds only jobs (keep shared values in hidden fields such as _base or definitions such as #Base) (x)\n" +
			"in.cue:4:9: error: name \"B\" is invalid: use lowercase letters, digits and '-', starting and ending with a letter or digit (name)\n",
	}, {
		name: "tag conflicting with the value it is attached to",
		src:  "name: \"web\" @tag(name)\ntask: {engine: \"exec\", cmd: [\"x\"]}\n",
		opts: lang.Options{Vars: map[string]string{"name": "api"}},
		want: "in.cue:1:7: error: conflicting values \"api\" and \"web\" (variable name from --var) (name)\n",
	}, {
		name: "tag of the wrong type",
		src:  "name: \"web\"\ncount: *1 | int @tag(count,type=int)\ntask: {engine: \"exec\", cmd: [\"x\"]}\n",
		opts: lang.Options{Env: map[string]string{"count": "many"}},
		want: "in.cue:2:17: error: variable count (MUSTER_VAR_count): \"many\" is not a number (count)\n",
	}, {
		name: "tag in a list",
		src:  "name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"], inputs: [{source: \"https://a/b\" @tag(src), target: \"/a\"}]}\n",
		want: "in.cue:2:68: error: @tag is not allowed inside a list\n",
	}, {
		name: "tag with a machine variable",
		src:  "name: \"web\" @tag(n,var=hostname)\ntask: {engine: \"exec\", cmd: [\"x\"]}\n",
		want: "in.cue:1:13: error: @tag(n,var=hostname): injection variables (var=hostname) are not supported: they would make the job depend on the machine that compiles it\n",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			jobs, diags := Parse("in.cue", []byte(c.src), c.opts)
			var all lang.Diagnostics
			all = append(all, diags...)
			for _, j := range jobs {
				_, vd := validate.Job(j)
				all = append(all, vd...)
			}
			all.Sort()
			// Tag errors carry no field path; the golden lists both.
			if got := diagLines(all); got != c.want {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}

// compile parses src and validates its single job, failing on any
// diagnostic.
func compile(t *testing.T, src string, opts lang.Options) (*lang.Value, []byte) {
	t.Helper()
	jobs, diags := Parse("in.cue", []byte(src), opts)
	if len(diags) > 0 || len(jobs) != 1 {
		t.Fatalf("Parse: %d jobs\n%s", len(jobs), diagLines(diags))
	}
	j, diags := validate.Job(jobs[0])
	if j == nil {
		t.Fatalf("validate:\n%s", diagLines(diags))
	}
	return jobs[0], j.Canonical()
}

// webCUE is the example of the brief: it must compile to exactly the job
// that webYAML compiles to.
const webCUE = `name: "web"
type: "service"
count: 3
labels: team: "payments"
selector: match_labels: region: "eu"
task: {
	engine: "docker"
	image: "registry.local/web:1.4" @tag(image)
	resources: memory: "512M"
	inputs: [{source: "https://example.com/a.txt", target: "/in/a.txt"}]
}
rollout: strategy: "canary"
`

const webYAML = `name: web
type: service
count: 3
labels: {team: payments}
selector: {match_labels: {region: eu}}
task:
  engine: docker
  image: registry.local/web:1.4
  resources: {memory: 512M}
  inputs: [{source: "https://example.com/a.txt", target: /in/a.txt}]
rollout: {strategy: canary}
`

func TestSameJobAsYAML(t *testing.T) {
	_, got := compile(t, webCUE, lang.Options{})
	trees, diags := yaml.Parse("web.yaml", []byte(webYAML), lang.Options{})
	if len(trees) != 1 || diags.HasErrors() {
		t.Fatalf("YAML: %v", diags)
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		t.Fatalf("YAML job: %v", diags)
	}
	if want := j.Canonical(); !bytes.Equal(got, want) {
		t.Errorf("CUE and YAML differ\nCUE:  %s\nYAML: %s", got, want)
	}
	// The same value given as a variable unifies with it.
	_, same := compile(t, webCUE, lang.Options{Vars: map[string]string{"image": "registry.local/web:1.4"}})
	if !bytes.Equal(same, got) {
		t.Errorf("a --var equal to the written value changed the job")
	}
}

func TestDefaultsFromJobDefinition(t *testing.T) {
	tree, _ := compile(t, "name: \"web\"\ntype: \"daemon\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\n", lang.Options{})
	want := map[string]string{
		"namespace":                              `string "default"`,
		"restart_policy":                         `string "always"`,
		"priority":                               "number 50",
		"rollout.strategy":                       `string "rolling"`,
		"rollout.max_parallel":                   "number 10",
		"rollout.health_check.deadline":          `string "5m"`,
		"rollout.health_check.max_error_rate":    "number 0.10",
		"rollout.max_failed_nodes_percent":       "number 10.0",
		"task.resources.cpus":                    "number 1",
		"task.resources.memory":                  `string "256M"`,
		"task.network":                           `string "none"`,
		"timeouts.total":                         `string "0s"`,
		"selector.match_expressions":             "list",
		"rollout.health_check.success_threshold": "number 2",
	}
	for path, desc := range want {
		v := lookup(tree, path)
		if got := v.Describe(); got != desc {
			t.Errorf("%s = %s, want %s", path, got, desc)
		}
		if v != nil && !v.Range.IsZero() {
			t.Errorf("%s comes from #Job but has the range %v", path, v.Range)
		}
	}
	for _, path := range []string{"count", "task.image", "task.entrypoint", "rollout.canary_count"} {
		if v := lookup(tree, path); v != nil {
			t.Errorf("%s is set (%s) on a daemon exec job", path, v.Describe())
		}
	}
}

func lookup(v *lang.Value, path string) *lang.Value {
	for _, k := range strings.Split(path, ".") {
		f := v.Get(k)
		if f == nil {
			return nil
		}
		v = f.Value
	}
	return v
}

func TestPositions(t *testing.T) {
	src := "name: \"web\"\ntask: {\n\tengine: \"exec\"\n\tcmd: [\"a\", \"b\"]\n}\nmeta: {a: \"é\", \"x.io/b\": \"v\"}\n"
	jobs, diags := Parse("in.cue", []byte(src), lang.Options{})
	if len(jobs) != 1 {
		t.Fatalf("%v", diags)
	}
	j := jobs[0]
	at := func(r lang.Range) string {
		if r.IsZero() {
			return "-"
		}
		return r.String() + "-" + strings.TrimPrefix(lang.Range{Filename: r.Filename, Start: r.End}.String(), "in.cue:")
	}
	for _, c := range []struct{ what, got, want string }{
		{"name key", at(j.Get("name").KeyRange), "in.cue:1:1-1:5"},
		{"name value", at(j.Get("name").Value.Range), "in.cue:1:7-1:12"},
		{"job", at(j.Range), "in.cue:1:1-6:30"},
		{"task key", at(j.Get("task").KeyRange), "in.cue:2:1-2:5"},
		{"task value", at(j.Get("task").Value.Range), "in.cue:2:7-5:2"},
		{"cmd[1]", at(lookup(j, "task.cmd").List[1].Range), "in.cue:4:13-4:16"},
		{"label key", at(lookup(j, "meta").Get("x.io/b").KeyRange), "in.cue:6:16-6:24"},
		{"label value", at(lookup(j, "meta").Get("x.io/b").Value.Range), "in.cue:6:26-6:29"},
		{"default", at(j.Get("priority").Value.Range), "-"},
	} {
		if c.got != c.want {
			t.Errorf("%s at %s, want %s", c.what, c.got, c.want)
		}
	}
}

func TestNumbersKeepTheirText(t *testing.T) {
	tree, _ := compile(t, `name: "web"
count: 4.0
timeouts: total: 1e2
task: {engine: "exec", cmd: ["x"], resources: cpus: 0.1234567890123456789}
rollout: {max_failed_nodes: 9007199254740992, max_failed_nodes_percent: 12.5e0}
priority: 7
`, lang.Options{})
	for path, want := range map[string]string{
		"task.resources.cpus":              "0.1234567890123456789",
		"rollout.max_failed_nodes":         "9007199254740992",
		"rollout.max_failed_nodes_percent": "12.5",
		"priority":                         "7",
		"count":                            "4.0",
		"timeouts.total":                   "1E+2",
	} {
		if got := lookup(tree, path).Number; got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
}

func TestTags(t *testing.T) {
	dir := t.TempDir()
	varFile := filepath.Join(dir, "vars.json")
	if err := os.WriteFile(varFile, []byte(`{"replicas": 4, "promote": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `package jobs

_tag:      *"1.27" | string @tag(tag)
_replicas: *1 | int @tag(replicas,type=int)

name:  "web"
type:  "service"
count: _replicas
labels: env: string @tag(env)
task: {
	engine: "docker"
	image:  "nginx:\(_tag)"
	resources: cpus: *1 | number @tag(cpus,type=number)
}
rollout: auto_promote: *false | bool @tag(promote,type=bool)
`
	opts := lang.Options{
		Env:      map[string]string{"env": "prod", "tag": "1.25", "unused": "x"},
		VarFiles: []string{varFile},
		Vars:     map[string]string{"tag": "1.26", "cpus": "0.5"},
	}
	tree, _ := compile(t, src, opts)
	for path, want := range map[string]string{
		"count":                `number 4`,
		"labels.env":           `string "prod"`,
		"task.image":           `string "nginx:1.26"`,
		"task.resources.cpus":  "number 0.5",
		"rollout.auto_promote": "bool true",
	} {
		if got := lookup(tree, path).Describe(); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
	// Without variables the tags keep their defaults, and an open value
	// with no default is an error.
	_, diags := Parse("in.cue", []byte(src), lang.Options{})
	if got, want := diagLines(diags), "in.cue:9:14: error: field labels.env is not concrete (string): give it a value or a default (labels.env)\n"; got != want {
		t.Errorf("without variables:\n%s\nwant:\n%s", got, want)
	}
}

func TestJobsList(t *testing.T) {
	src := `#Base: #Job & {
	type: "service"
	task: engine: "docker"
}
_names: ["a", "b"]
jobs: [for n in _names {#Base & {name: n, task: image: "web-\(n):1"}}, {
	name: "c"
	task: {engine: "exec", cmd: ["run"]}
}]
`
	jobs, diags := Parse("in.cue", []byte(src), lang.Options{})
	if len(diags) > 0 || len(jobs) != 3 {
		t.Fatalf("%d jobs\n%s", len(jobs), diagLines(diags))
	}
	for i, want := range []string{"a", "b", "c"} {
		if got := jobs[i].Get("name").Value.Str; got != want {
			t.Errorf("job %d is %q, want %q", i, got, want)
		}
		if _, ds := validate.Job(jobs[i]); ds.HasErrors() {
			t.Errorf("job %s: %v", want, ds)
		}
	}
	if got := lookup(jobs[1], "task.image").Str; got != "web-b:1" {
		t.Errorf("job b image %q", got)
	}
	if r := jobs[2].Get("name").KeyRange; r.Start.Line != 7 || r.Start.Column != 2 {
		t.Errorf("job c name key at %v, want in.cue:7:2", r)
	}
	// An empty list holds no job and no error.
	if jobs, diags := Parse("in.cue", []byte("jobs: []\n"), lang.Options{}); len(jobs) != 0 || len(diags) != 0 {
		t.Errorf("jobs: [] gave %d jobs, %v", len(jobs), diags)
	}
}

// TestWorkersAreRecycled parses more files than one worker serves and
// checks that results do not change across workers.
func TestWorkersAreRecycled(t *testing.T) {
	_, want := compile(t, webCUE, lang.Options{})
	for i := 0; i < maxUses+5; i++ {
		if _, got := compile(t, webCUE, lang.Options{}); !bytes.Equal(got, want) {
			t.Fatalf("file %d compiled differently", i)
		}
	}
}

// TestAbandonedWorkerIsDropped: a cue.Context whose caller stopped waiting
// is not returned to the pool.
func TestAbandonedWorkerIsDropped(t *testing.T) {
	// One processor and no collection: the pool then gives back what was
	// put in it last.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	w := getWorker()
	putWorker(w, false)
	if getWorker() != w {
		t.Skip("the pool does not give back its last worker here")
	}
	putWorker(w, false)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, diags := ParseContext(ctx, "in.cue", []byte(webCUE), lang.Options{}); len(diags) != 0 {
		t.Fatal(diags)
	}
	for range 10 {
		if getWorker() == w {
			t.Fatal("the worker of an abandoned evaluation came back from the pool")
		}
	}
}

package compiler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// docs/spec.md section 1: "The same job written in any of the four formats compiles
// to the same canonical bytes and the same hash." The probes below put one
// edge value into a small job, write the job in all four formats, and
// require one verdict: every format accepts it with the same hash, or every
// format rejects it. The published JSON Schema must not reject what muster
// accepts.

const hexDigest = "0fc45900cad365a8e8b3c8bc4b8d27648f7b041fabc79349c0e219a7efe080a0"

// probe sets the value at path (dotted; JSON text) in a base job.
type probe struct {
	path  string
	value string
}

func (p probe) String() string { return p.path + "=" + p.value }

var agreementProbes = []probe{
	{"task.ports", `[{"name": "http"}]`},
	{"rollout.health_check.probe", `{"exec": {"cmd": ["check"]}}`},
	{"task.resources.cpus", `"1e3"`},
	{"task.resources.cpus", `"2."`},
	{"task.resources.cpus", `".5"`},
	{"task.resources.cpus", `"1000m"`},
	{"task.resources.cpus", `"0.5m"`},
	{"task.resources.cpus", `"1024"`},
	{"task.resources.cpus", `"1024.0"`},
	{"task.resources.cpus", `"1024.5"`},
	{"task.resources.cpus", `1024.5`},
	{"task.resources.cpus", `0.0001`},
	{"task.resources.cpus", `" 2"`},
	{"task.resources.memory", `"4M"`},
	{"task.resources.memory", `"0004Mi"`},
	{"task.resources.memory", `"3M"`},
	{"task.resources.memory", `"8589934591G"`},
	{"timeouts.total", `"+5m"`},
	{"timeouts.total", `"1.5h"`},
	{"timeouts.total", `"0"`},
	{"timeouts.total", `"90"`},
	{"timeouts.total", `"1µs"`},
	{"timeouts.total", `"1h-5m"`},
	{"timeouts.total", `"9223372036s"`},
	{"timeouts.total", `9223372036`},
	{"timeouts.total", `9223372037`},
	{"timeouts.total", `1.0`},
	{"name", `"a"`},
	{"name", `"0abc"`},
	{"name", `"ab--cd"`},
	{"labels", `{"a.b.c/d_e": "x"}`},
	{"labels", `{"example.com/": "x"}`},
	{"labels", `{"a/b/c": "x"}`},
	{"labels", `{"k": "-x"}`},
	{"meta", `{"muster.dev/x": "y"}`},
	{"meta", `{"muster.devx": "y"}`},
	{"selector.match_expressions", `["a in (b)"]`},
	{"selector.match_expressions", `["a=b=c"]`},
	{"selector.match_expressions", `["a=="]`},
	{"selector.match_expressions", `["a in(x)"]`},
	{"selector.match_expressions", `["a  notin  ( x , y )"]`},
	{"selector.match_expressions", `["!a=b"]`},
	{"selector.match_expressions", `["a/b/c"]`},
	{"selector.match_ids", `["n1", "n1"]`},
	{"selector.match_ids", `[" "]`},
	{"task.image", `"NGINX"`},
	{"task.image", `"localhost:5000/a:1@sha256:` + hexDigest + `"`},
	{"task.image", `"a//b"`},
	{"task.workdir", `"/"`},
	{"task.workdir", `"/a/./b"`},
	{"task.env", `{"_X": "1"}`},
	{"task.env", `{"MUSTER": "1"}`},
	{"task.env", `{"path": "1"}`},
	{"task.env", `{"muster_x": "1"}`},
	{"task.env", `{"PATHS": "1", "MUSTERX": "2"}`},
	{"task.env", `{"A": "\u0000"}`},
	{"task.cmd", `["a\tb\nc"]`},
	{"task.cmd", `["\u001b[2J"]`},
	{"task.workdir", `"/a\u0000"`},
	{"meta", `{"MUSTER.dev/x": "y"}`},
	{"description", `"\u001b[31mred"`},
	{"description", `"two\nlines\tand a tab"`},
	{"rollout.health_check", `{"deadline": "15s", "min_healthy_time": "2s"}`},
	{"task.inputs", `[{"source": "file:///", "target": "/"}]`},
	{"task.inputs", `[{"source": "http://x", "target": "/a"}]`},
	{"task.inputs", `[{"source": "https://x y", "target": "/a"}]`},
	{"task.inputs", `[{"source": "job:default/b@sha256:` + hexDigest + `#/", "target": "/a"}]`},
	{"task.inputs", `[{"source": "job:default/b@sha256:` + hexDigest + `#", "target": "/a"}]`},
	{"task.inputs", `[{"source": "file:///a/../b", "target": "/a"}]`},
	{"task.outputs", `[{"path": "/"}]`},
	{"task.outputs", `[{"path": "/..a"}]`},
	{"priority", `1e2`},
	{"priority", `50.0`},
	{"count", `9007199254740992`},
	{"rollout.health_check.max_error_rate", `1.0000001`},
	{"rollout.max_failed_nodes_percent", `0.5`},
	{"description", `""`},
	{"schedule", `{"cron": "15 3 * * *"}`},
	{"schedule", `{"cron": " 15  3 * JAN mon ", "time_zone": "Europe/Berlin"}`},
	{"schedule", `{"cron": "@Daily", "prohibit_overlap": false}`},
	{"schedule", `{"cron": "*/20 0-6,22 ? * sun", "time_zone": "Etc/GMT+5", "prohibit_overlap": true}`},
	{"schedule", `{"cron": "0 0 29 2 *"}`},
	{"schedule", `{"cron": "0 0 30 2 *"}`},
	{"schedule", `{"cron": "0 15 3 * * *"}`},
	{"schedule", `{"cron": "@every 5m"}`},
	{"schedule", `{"cron": "61 * * * *"}`},
	{"schedule", `{"cron": "0 3 * * 7"}`},
	{"schedule", `{"cron": "TZ=UTC 0 3 * * *"}`},
	{"schedule", `{"cron": "@daily", "time_zone": "Mars/Olympus"}`},
	{"schedule", `{"cron": "@daily", "time_zone": "Local"}`},
	{"schedule", `{"cron": "@daily", "time_zone": "utc"}`},
	{"schedule", `{"cron": "@daily", "time_zone": ""}`},
	{"schedule", `{"cron": "@daily", "prohibit_overlap": "yes"}`},
	{"schedule", `{}`},
}

// serviceProbes are probes of the fields of services, each set in
// serviceJob: a docker service on the bridge network with one port.
var serviceProbes = []probe{
	{"task.ports", `[{"name": "http", "to": 8080}]`},
	{"task.ports", `[{"name": "http", "port": 8080, "to": 8080}, {"name": "a_9"}]`},
	{"task.ports", `[{"name": "http", "port": 65535}]`},
	{"task.ports", `[{"name": "http", "port": 65536}]`},
	{"task.ports", `[{"name": "http", "port": 80.0}]`},
	{"task.ports", `[{"name": "a-b"}]`},
	{"task.ports", `[{"name": "` + strings.Repeat("p", 32) + `"}]`},
	{"task.ports", `[{"name": "a", "port": 80}, {"name": "b", "port": 80}]`},
	{"task.ports", `[{"name": "a"}, {"name": "a"}]`},
	{"task.ports", `[{"name": "a", "to": 0}]`},
	{"task.ports", `[]`},
	{"task.network", `"host"`},
	{"task.network", `"none"`},
	{"rollout.health_check.probe", `{"http": {}}`},
	{"rollout.health_check.probe", `{"http": {"port": "http", "path": "/a?b=%2F&c", "status": [204, 200, 204]}, "timeout": "1.5s"}`},
	{"rollout.health_check.probe", `{"http": {"path": "/é"}}`},
	{"rollout.health_check.probe", `{"http": {"path": "//a"}}`},
	{"rollout.health_check.probe", `{"http": {"path": "/a#b"}}`},
	{"rollout.health_check.probe", `{"http": {"path": "/${x}"}}`},
	{"rollout.health_check.probe", `{"http": {"status": [599, 100]}}`},
	{"rollout.health_check.probe", `{"http": {"status": [600]}}`},
	{"rollout.health_check.probe", `{"http": {"port": "web"}}`},
	{"rollout.health_check.probe", `{"tcp": {"port": "http"}}`},
	{"rollout.health_check.probe", `{"tcp": {}, "http": {}}`},
	{"rollout.health_check.probe", `{"exec": {"cmd": ["a\tb", "c"]}}`},
	{"rollout.health_check.probe", `{"exec": {"cmd": []}}`},
	{"rollout.health_check.probe", `{"exec": {"cmd": [""]}}`},
	{"rollout.health_check.probe", `{"tcp": {}, "timeout": "10s"}`},
	{"rollout.health_check.probe", `{"tcp": {}, "timeout": "9999ms"}`},
	{"rollout.health_check.probe", `{"tcp": {}, "timeout": 0}`},
	{"rollout.health_check.probe", `{}`},
	{"schedule", `{"cron": "15 3 * * *"}`},
}

// baseJob is the job every probe starts from: a docker task, so that image
// and entrypoint apply.
func baseJob() map[string]any {
	return map[string]any{
		"name": "probe",
		"task": map[string]any{"engine": "docker", "image": "web:1"},
	}
}

// serviceJob is the job the serviceProbes start from: a docker service on
// the bridge network with one dynamic port.
func serviceJob() map[string]any {
	return map[string]any{
		"name": "probe",
		"type": "service",
		"task": map[string]any{"engine": "docker", "image": "web:1", "network": "bridge",
			"ports": []any{map[string]any{"name": "http", "to": json.Number("8080")}}},
	}
}

func (p probe) job(t *testing.T) map[string]any {
	t.Helper()
	return p.jobFrom(t, baseJob())
}

// jobFrom sets the probe's value in job, and returns it.
func (p probe) jobFrom(t *testing.T, job map[string]any) map[string]any {
	t.Helper()
	var v any
	dec := json.NewDecoder(strings.NewReader(p.value))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	m := job
	parts := strings.Split(p.path, ".")
	for _, k := range parts[:len(parts)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
	return job
}

// renderJSON writes v as JSON with sorted keys; it is also valid YAML (flow
// style) and valid CUE.
func renderJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// hclBlocks are the members written as blocks in HCL (docs/spec.md section 1).
var hclBlocks = []string{"selector", "task", "resources", "rollout", "health_check", "probe", "http", "tcp", "exec", "timeouts", "schedule"}

// hclLists are the lists of objects written as repeated blocks in HCL, by
// the block that makes one item.
var hclLists = map[string]string{"inputs": "input", "outputs": "output", "ports": "port"}

// renderHCL writes a job as an HCL job block.
func renderHCL(job map[string]any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "job %q {\n", job["name"])
	renderHCLBody(&b, job, "  ", true)
	b.WriteString("}\n")
	return b.String()
}

func renderHCLBody(b *strings.Builder, m map[string]any, indent string, top bool) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := m[k]
		switch {
		case top && k == "name":
		case slices.Contains(hclBlocks, k):
			fmt.Fprintf(b, "%s%s {\n", indent, k)
			renderHCLBody(b, v.(map[string]any), indent+"  ", false)
			fmt.Fprintf(b, "%s}\n", indent)
		case hclLists[k] != "":
			for _, item := range v.([]any) {
				fmt.Fprintf(b, "%s%s {\n", indent, hclLists[k])
				renderHCLBody(b, item.(map[string]any), indent+"  ", false)
				fmt.Fprintf(b, "%s}\n", indent)
			}
		default:
			fmt.Fprintf(b, "%s%s = %s\n", indent, k, hclLiteral(v))
		}
	}
}

// hclLiteral writes a JSON value as an HCL expression: JSON scalars, lists
// and objects are HCL syntax, except that "${" and "%{" start templates.
func hclLiteral(v any) string {
	s := renderJSON(v)
	s = strings.ReplaceAll(s, "${", "$${")
	return strings.ReplaceAll(s, "%{", "%%{")
}

func TestFormatsAgree(t *testing.T) {
	for _, f := range Formats {
		requireParser(t, f)
	}
	sch := jobSchema(t)
	type run struct {
		p    probe
		base func() map[string]any
		name string
	}
	var runs []run
	for _, p := range agreementProbes {
		runs = append(runs, run{p, baseJob, p.String()})
	}
	for _, p := range serviceProbes {
		runs = append(runs, run{p, serviceJob, "service:" + p.String()})
	}
	for _, r := range runs {
		p := r.p
		t.Run(r.name, func(t *testing.T) {
			job := p.jobFrom(t, r.base())
			doc := renderJSON(job)
			sources := map[Format]string{YAML: doc, JSON: doc, CUE: doc, HCL: renderHCL(job)}
			verdicts := map[Format]string{}
			var diags []string
			for _, f := range Formats {
				res := compileSafely(t, "probe."+string(f), []byte(sources[f]), f)
				switch {
				case res.Diags.HasErrors():
					verdicts[f] = "rejects"
					diags = append(diags, res.Diags.Error())
				case len(res.Jobs) != 1:
					verdicts[f] = fmt.Sprintf("gives %d jobs", len(res.Jobs))
				default:
					verdicts[f] = "accepts " + res.Jobs[0].Spec.Hash()[:19]
				}
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(doc)))
			if err != nil {
				t.Fatal(err)
			}
			schemaVerdict := "accepts"
			if err := sch.Validate(inst); err != nil {
				schemaVerdict = "rejects"
			}
			agree := true
			for _, f := range Formats {
				agree = agree && verdicts[f] == verdicts[YAML]
			}
			if !agree {
				t.Errorf("the formats disagree: yaml %s, json %s, hcl %s, cue %s\n%s",
					verdicts[YAML], verdicts[JSON], verdicts[HCL], verdicts[CUE], strings.Join(diags, "\n"))
			}
			// The schema may leave rules to the validator (it says so), but
			// it must never reject a job that muster accepts: editors would
			// mark a valid file as wrong.
			compilerOK := strings.HasPrefix(verdicts[YAML], "accepts")
			switch {
			case compilerOK && schemaVerdict == "rejects":
				t.Errorf("the JSON Schema rejects a job that muster accepts (%s)", verdicts[YAML])
			case !compilerOK && schemaVerdict == "accepts":
				t.Logf("the JSON Schema accepts a job that muster rejects:\n%s", strings.Join(diags, "\n"))
			}
		})
	}
}

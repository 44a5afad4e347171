package cue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/errors"
	"cuelang.org/go/cue/format"

	"github.com/muster-dev/muster/lang"
	langjson "github.com/muster-dev/muster/lang/json"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

// jobPaths lists the JSON field paths of a Go type as the catalog writes
// them: "task.resources.cpus", "task.inputs[].target". Maps, scalars and
// lists of scalars are leaves.
func jobPaths(t reflect.Type, prefix string, out map[string]bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := join(prefix, name)
		out[p] = true
		switch ft := deref(f.Type); {
		case ft.Kind() == reflect.Struct:
			jobPaths(ft, p, out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			jobPaths(ft.Elem(), p+"[]", out)
		}
	}
}

// treePaths lists the field paths of a job tree the same way, guided by the
// Go type so that map keys are not taken for fields.
func treePaths(v *lang.Value, t reflect.Type, prefix string, out map[string]bool) {
	for _, f := range v.Fields {
		sf, ok := fieldByJSON(t, f.Key)
		if !ok {
			out[join(prefix, f.Key)+" (not in schema.Job)"] = true
			continue
		}
		p := join(prefix, f.Key)
		out[p] = true
		switch ft := deref(sf.Type); {
		case ft.Kind() == reflect.Struct && f.Value.Kind == lang.Map:
			treePaths(f.Value, ft, p, out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && f.Value.Kind == lang.List:
			for _, e := range f.Value.List {
				treePaths(e, ft.Elem(), p+"[]", out)
			}
		}
	}
}

// deref is the type a pointer points to (an optional object: a probe).
func deref(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func fieldByJSON(t reflect.Type, key string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name == key {
			return t.Field(i), true
		}
	}
	return reflect.StructField{}, false
}

// variant is a minimal job of one type, engine and strategy.
type variant struct {
	typ, engine, strategy string
	extra                 string // more JSON members of rollout, or ""
}

func (v variant) name() string { return v.typ + "/" + v.engine + "/" + v.strategy + v.extra }

// json is the minimal job as JSON, which is also CUE.
func (v variant) json() string {
	task := `"engine":"exec","cmd":["run"]`
	switch v.engine {
	case "docker":
		task = `"engine":"docker","image":"web:1"`
	case "wasm":
		task = `"engine":"wasm","image":"/opt/mod.wasm"`
	}
	rollout := `"strategy":"` + v.strategy + `"` + v.extra
	return `{"name":"job","type":"` + v.typ + `","task":{` + task + `},"rollout":{` + rollout + `}}`
}

func variants() []variant {
	var out []variant
	for _, typ := range []string{"batch", "ops", "service", "daemon"} {
		for _, engine := range []string{"docker", "exec", "wasm"} {
			for _, strategy := range []string{"immediate", "rolling", "canary"} {
				out = append(out, variant{typ: typ, engine: engine, strategy: strategy})
			}
		}
		out = append(out, variant{typ: typ, engine: "exec", strategy: "canary", extra: `,"canary_percent":20`})
		out = append(out, variant{typ: typ, engine: "exec", strategy: "canary", extra: `,"canary_count":3`})
	}
	return out
}

// goCanonical compiles a JSON job without CUE: the Go defaults and
// normalization alone.
func goCanonical(t *testing.T, src string) []byte {
	t.Helper()
	trees, diags := langjson.Parse("job.json", []byte(src), lang.Options{})
	if diags.HasErrors() || len(trees) != 1 {
		t.Fatalf("JSON frontend: %v", diags)
	}
	j, diags := validate.Job(trees[0])
	if j == nil {
		t.Fatalf("validator on the Go path: %v", diags)
	}
	return j.Canonical()
}

// TestDefinitionAgreesWithModel proves that #Job has exactly the fields of
// schema.Job and fills exactly its defaults: every minimal job of each type,
// engine and strategy, exported through #Job, holds every field its
// canonical form holds, and validates to the same canonical bytes as the Go
// normalization of the same minimal job.
func TestDefinitionAgreesWithModel(t *testing.T) {
	jobType := reflect.TypeFor[schema.Job]()
	want := map[string]bool{}
	jobPaths(jobType, "", want)

	got := map[string]bool{"api_version": true} // optional in #Job: never exported
	for _, v := range variants() {
		t.Run(v.name(), func(t *testing.T) {
			trees, diags := Parse("job.cue", []byte(v.json()), lang.Options{})
			if len(diags) > 0 || len(trees) != 1 {
				t.Fatalf("Parse: %d jobs, diagnostics:\n%v", len(trees), diags)
			}
			exported := map[string]bool{}
			treePaths(trees[0], jobType, "", exported)
			maps.Copy(got, exported)

			j, diags := validate.Job(trees[0])
			if j == nil {
				t.Fatalf("the tree exported through #Job does not validate:\n%v", diags)
			}
			canon := j.Canonical()
			if goc := goCanonical(t, v.json()); !bytes.Equal(canon, goc) {
				t.Fatalf("canonical bytes differ\nthrough #Job: %s\nGo only:      %s", canon, goc)
			}

			// #Job filled every field the canonical form has.
			var doc map[string]any
			if err := json.Unmarshal(canon, &doc); err != nil {
				t.Fatal(err)
			}
			canonPaths := map[string]bool{}
			docPaths(doc, "", canonPaths)
			delete(canonPaths, "api_version")
			for p := range canonPaths {
				if !exported[p] {
					t.Errorf("#Job leaves %s unset; the validator fills it", p)
				}
			}
			for p := range exported {
				if !canonPaths[p] {
					t.Errorf("#Job exports %s, which the canonical form of this job leaves out", p)
				}
			}
		})
	}
	// Jobs with one of every list element and every kind of probe, so
	// that their fields show.
	for _, full := range []string{
		`{"name":"job","task":{"engine":"exec","cmd":["run"],
		"inputs":[{"source":"https://example.com/a","target":"/in/a"}],"outputs":[{"path":"/out/a"}]}}`,
		`{"name":"job","type":"service","task":{"engine":"docker","image":"web:1","network":"bridge",
		"ports":[{"name":"http","port":8080,"to":80}]},
		"rollout":{"health_check":{"probe":{"http":{"port":"http"}}}}}`,
		`{"name":"job","type":"daemon","task":{"engine":"exec","cmd":["run"],"ports":[{"name":"dns"}]},
		"rollout":{"health_check":{"probe":{"tcp":{"port":"dns"}}}}}`,
		`{"name":"job","type":"service","task":{"engine":"exec","cmd":["run"]},
		"rollout":{"health_check":{"probe":{"exec":{"cmd":["check"]}}}}}`,
		`{"name":"job","task":{"engine":"exec","cmd":["run"]},"schedule":{"cron":"15 3 * * *"}}`,
		`{"name":"job","type":"ops","task":{"engine":"exec","cmd":["run"]},
		"schedule":{"cron":" 0 9 * JAN Mon","time_zone":"Europe/Berlin","prohibit_overlap":false}}`,
	} {
		trees, diags := Parse("full.cue", []byte(full), lang.Options{})
		if len(trees) != 1 {
			t.Fatalf("full job: %v", diags)
		}
		treePaths(trees[0], jobType, "", got)
		if j, diags := validate.Job(trees[0]); j == nil {
			t.Errorf("full job through #Job does not validate: %v", diags)
		} else if canon, goc := j.Canonical(), goCanonical(t, full); !bytes.Equal(canon, goc) {
			t.Errorf("canonical bytes differ\nthrough #Job: %s\nGo only:      %s", canon, goc)
		}
	}

	if a, b := sortedKeys(got), sortedKeys(want); !slices.Equal(a, b) {
		t.Errorf("#Job field paths differ from schema.Job's JSON fields\n#Job:       %v\nschema.Job: %v", a, b)
	}
	var catalog []string
	for _, f := range schema.Fields {
		catalog = append(catalog, f.Path)
	}
	sort.Strings(catalog)
	if a := sortedKeys(got); !slices.Equal(a, catalog) {
		t.Errorf("#Job field paths differ from schema.Fields\n#Job:    %v\ncatalog: %v", a, catalog)
	}
}

func docPaths(v any, prefix string, out map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for k, x := range m {
		p := join(prefix, k)
		out[p] = true
		switch {
		case p == "labels" || p == "meta" || strings.HasSuffix(p, "match_labels") || p == "task.env":
		case isList(x):
			for _, e := range x.([]any) {
				docPaths(e, p+"[]", out)
			}
		default:
			docPaths(x, p, out)
		}
	}
}

func isList(v any) bool { _, ok := v.([]any); return ok }

func sortedKeys(m map[string]bool) []string {
	out := slices.Collect(maps.Keys(m))
	sort.Strings(out)
	return out
}

// TestDefinitionIsFormatted keeps schema/job.cue in cue fmt layout, as users
// see it through `muster schema --format cue`.
func TestDefinitionIsFormatted(t *testing.T) {
	b, err := format.Source([]byte(schema.CUEDefinition))
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != schema.CUEDefinition {
		t.Errorf("schema/job.cue is not formatted as cue fmt would")
	}
}

// checkCUE reports whether #Job alone (as `cue vet -d '#Job'` would) accepts
// the job src.
func checkCUE(t *testing.T, src string) error {
	t.Helper()
	w := getWorker()
	defer putWorker(w, false)
	v := w.ctx.CompileString(src, cue.Filename("job.cue"))
	if err := v.Err(); err != nil {
		t.Fatalf("%s does not compile: %v", src, err)
	}
	return w.def.Unify(v).Validate(cue.Concrete(true))
}

// checkGo reports whether the validator accepts the job src (JSON).
func checkGo(t *testing.T, src string) lang.Diagnostics {
	t.Helper()
	trees, diags := langjson.Parse("job.json", []byte(src), lang.Options{})
	if diags.HasErrors() || len(trees) != 1 {
		t.Fatalf("%s: %v", src, diags)
	}
	_, diags = validate.Job(trees[0])
	return diags
}

// merge deep-merges the JSON object patch into base.
func merge(base, patch map[string]any) map[string]any {
	out := maps.Clone(base)
	for k, v := range patch {
		if pm, ok := v.(map[string]any); ok {
			if bm, ok := out[k].(map[string]any); ok {
				out[k] = merge(bm, pm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestDefinitionAgreesWithValidator checks #Job against the validator on
// one value per rule of docs/spec.md section 2, valid and invalid: both accept it
// or both reject it.
func TestDefinitionAgreesWithValidator(t *testing.T) {
	base := map[string]any{"name": "web", "task": map[string]any{"engine": "exec", "cmd": []any{"run"}}}
	long := strings.Repeat("a", 64)
	cases := []struct {
		patch string
		valid bool
	}{
		{`{}`, true},
		{`{"api_version":"muster/v1"}`, true},
		{`{"api_version":"muster/v2"}`, false},
		{`{"namespace":"team-a"}`, true},
		{`{"namespace":"Team"}`, false},
		{`{"name":"Web"}`, false},
		{`{"name":"-web"}`, false},
		{`{"name":"` + long[:63] + `"}`, true},
		{`{"name":"` + long + `"}`, false},
		{`{"type":"daemon"}`, true},
		{`{"type":"job"}`, false},
		{`{"description":"` + strings.Repeat("é", 1024) + `"}`, true},
		{`{"description":"` + strings.Repeat("é", 1025) + `"}`, false},
		{`{"labels":{"example.com/team":"a","x":"","A.b_c-d":"Z9"}}`, true},
		{`{"labels":{"-a":"x"}}`, false},
		{`{"labels":{"Example.com/a":"x"}}`, false},
		{`{"labels":{"a":"a b"}}`, false},
		{`{"labels":{"a":"` + long + `"}}`, false},
		{`{"meta":{"a/b":"any thing"}}`, true},
		{`{"meta":{"muster.dev/x":"y"}}`, false},
		{`{"priority":0}`, true},
		{`{"priority":100}`, true},
		{`{"priority":101}`, false},
		{`{"priority":-1}`, false},
		{`{"priority":1.5}`, false},
		{`{"priority":50.0,"count":1e2}`, true},
		{`{"timeouts":{"total":1.0}}`, true},
		{`{"count":5}`, true},
		{`{"count":0}`, false},
		{`{"type":"service","count":2}`, true},
		{`{"type":"ops","count":1}`, false},
		{`{"type":"daemon","count":1}`, false},
		{`{"restart_policy":"never"}`, true},
		{`{"restart_policy":"sometimes"}`, false},
		{`{"selector":{"match_expressions":["a=b","a==b","a!=b","a in (x,y)","a notin (x)","a","!a"," a = b ","example.com/a in ( x , y )","a="],"match_ids":["n1"],"match_labels":{"region":"eu"}}}`, true},
		{`{"selector":{"match_expressions":["a in ()"]}}`, false},
		{`{"selector":{"match_expressions":["a ~ b"]}}`, false},
		{`{"selector":{"match_expressions":[""]}}`, false},
		{`{"selector":{"match_ids":[""]}}`, false},
		{`{"selector":{"match_labels":{"a":"b c"}}}`, false},
		{`{"task":{"engine":"rkt"}}`, false},
		{`{"task":{"engine":"docker","cmd":[],"image":"registry.local:5000/team/web:1.4","entrypoint":["/bin/sh"]}}`, true},
		{`{"task":{"engine":"docker","cmd":[]}}`, false},
		{`{"task":{"engine":"docker","cmd":[],"image":"Web:1"}}`, false},
		{`{"task":{"image":"web:1"}}`, false},
		{`{"task":{"entrypoint":["/bin/sh"]}}`, false},
		{`{"task":{"cmd":[]}}`, false},
		{`{"task":{"cmd":[""]}}`, false},
		{`{"task":{"engine":"wasm","cmd":[],"image":"/opt/a.wasm"}}`, true},
		{`{"task":{"engine":"wasm","cmd":[],"image":"https://example.com/a.wasm"}}`, true},
		{`{"task":{"engine":"wasm","cmd":[],"image":"sha256:` + hex64 + `"}}`, true},
		{`{"task":{"engine":"wasm","cmd":[],"image":"a.wasm"}}`, false},
		{`{"task":{"engine":"wasm","cmd":[],"image":"sha256:abc"}}`, false},
		{`{"task":{"env":{"A_1":"x","_b":""}}}`, true},
		{`{"task":{"env":{"PATH":"x"}}}`, false},
		{`{"task":{"env":{"MUSTER_X":"x"}}}`, false},
		{`{"task":{"env":{"1A":"x"}}}`, false},
		{`{"task":{"workdir":"/srv/app"}}`, true},
		{`{"task":{"workdir":""}}`, true},
		{`{"task":{"workdir":"srv"}}`, false},
		{`{"task":{"workdir":"/srv/../etc"}}`, false},
		{`{"task":{"workdir":"/srv/"}}`, false},
		{`{"task":{"workdir":"/srv/./a"}}`, false},
		{`{"task":{"network":"host"}}`, true},
		{`{"task":{"network":"bridge2"}}`, false},
		{`{"task":{"resources":{"cpus":0.5}}}`, true},
		{`{"task":{"resources":{"cpus":1024}}}`, true},
		{`{"task":{"resources":{"cpus":"500m"}}}`, true},
		{`{"task":{"resources":{"cpus":"0.25"}}}`, true},
		{`{"task":{"resources":{"cpus":"1024"}}}`, true},
		{`{"task":{"resources":{"cpus":"1024000m"}}}`, true},
		{`{"task":{"resources":{"cpus":"2.5e1"}}}`, false},
		{`{"task":{"resources":{"cpus":".5"}}}`, true},
		{`{"task":{"resources":{"cpus":0}}}`, false},
		{`{"task":{"resources":{"cpus":1024.5}}}`, false},
		{`{"task":{"resources":{"cpus":-1}}}`, false},
		{`{"task":{"resources":{"cpus":"0m"}}}`, false},
		{`{"task":{"resources":{"cpus":"1025"}}}`, false},
		{`{"task":{"resources":{"cpus":"1024001m"}}}`, false},
		{`{"task":{"resources":{"cpus":"abc"}}}`, false},
		{`{"task":{"resources":{"cpus":true}}}`, false},
		{`{"task":{"resources":{"memory":"4M"}}}`, true},
		{`{"task":{"resources":{"memory":"512Mi"}}}`, true},
		{`{"task":{"resources":{"memory":"2G"}}}`, true},
		{`{"task":{"resources":{"memory":"1Gi"}}}`, true},
		{`{"task":{"resources":{"memory":"3M"}}}`, false},
		{`{"task":{"resources":{"memory":"0G"}}}`, false},
		{`{"task":{"resources":{"memory":"1K"}}}`, false},
		{`{"task":{"resources":{"memory":"512"}}}`, false},
		{`{"task":{"resources":{"memory":512}}}`, false},
		{`{"task":{"inputs":[{"source":"file:///data/a.csv","target":"/in/a"},{"source":"https://example.com/a","target":"/in/b"},{"source":"sha256:` + hex64 + `","target":"/in/c"},{"source":"job:default/web@sha256:` + hex64 + `#/out/a","target":"/in/d"},{"source":"job:default/web@sha256:` + hex64 + `","target":"/in/e"}]}}`, true},
		{`{"task":{"inputs":[{"source":"ftp://example.com/a","target":"/in/a"}]}}`, false},
		{`{"task":{"inputs":[{"source":"file://data/a","target":"/in/a"}]}}`, false},
		{`{"task":{"inputs":[{"source":"job:default/web@sha256:abc","target":"/in/a"}]}}`, false},
		{`{"task":{"inputs":[{"source":"https://example.com/a","target":"in/a"}]}}`, false},
		{`{"task":{"inputs":[{"source":"https://example.com/a","target":"/in/a"},{"source":"https://example.com/b","target":"/in/a"}]}}`, false},
		{`{"task":{"inputs":[{"source":"https://example.com/a"}]}}`, false},
		{`{"task":{"inputs":[{"source":"https://example.com/a","target":"/a","mode":"r"}]}}`, false},
		{`{"task":{"outputs":[{"path":"/out/a"},{"path":"/out/b"}]}}`, true},
		{`{"task":{"outputs":[{"path":"out/a"}]}}`, false},
		{`{"task":{"outputs":[{"path":"/out/a"},{"path":"/out/a"}]}}`, false},
		{`{"task":{"outputs":[{}]}}`, false},
		{`{"rollout":{"strategy":"rolling","max_parallel":100}}`, true},
		{`{"rollout":{"strategy":"blue"}}`, false},
		{`{"rollout":{"max_parallel":0}}`, false},
		{`{"rollout":{"max_parallel":101}}`, false},
		{`{"rollout":{"strategy":"canary","canary_count":3}}`, true},
		{`{"rollout":{"strategy":"canary","canary_percent":20}}`, true},
		{`{"rollout":{"strategy":"canary","canary_count":0,"canary_percent":20}}`, true},
		{`{"rollout":{"strategy":"canary","canary_count":1,"canary_percent":0}}`, true},
		{`{"rollout":{"strategy":"canary","canary_count":2,"canary_percent":20}}`, false},
		{`{"rollout":{"strategy":"canary","canary_count":0,"canary_percent":0}}`, false},
		{`{"rollout":{"strategy":"canary","canary_count":0}}`, false},
		{`{"rollout":{"strategy":"canary","canary_percent":101}}`, false},
		{`{"rollout":{"strategy":"rolling","canary_count":1}}`, false},
		{`{"type":"service","rollout":{"canary_percent":10}}`, false},
		{`{"rollout":{"auto_promote":true,"no_auto_rollback":true,"max_failed_nodes":0,"max_failed_nodes_percent":100}}`, true},
		{`{"rollout":{"auto_promote":"yes"}}`, false},
		{`{"rollout":{"max_failed_nodes":-1}}`, false},
		{`{"rollout":{"max_failed_nodes_percent":100.5}}`, false},
		{`{"rollout":{"health_check":{"deadline":90,"min_healthy_time":"90","interval":"1h30m","failure_threshold":1,"success_threshold":1,"max_error_rate":0}}}`, true},
		{`{"rollout":{"health_check":{"deadline":"1.5s","interval":"0","max_error_rate":1}}}`, true},
		{`{"rollout":{"health_check":{"deadline":"-5m"}}}`, false},
		{`{"rollout":{"health_check":{"deadline":"1d"}}}`, false},
		{`{"rollout":{"health_check":{"deadline":1.5}}}`, false},
		{`{"rollout":{"health_check":{"deadline":-1}}}`, false},
		{`{"rollout":{"health_check":{"interval":""}}}`, false},
		{`{"rollout":{"health_check":{"failure_threshold":0}}}`, false},
		{`{"rollout":{"health_check":{"success_threshold":0}}}`, false},
		{`{"rollout":{"health_check":{"max_error_rate":1.5}}}`, false},
		{`{"timeouts":{"execution":"1h","queue":0,"total":"0s"}}`, true},
		{`{"timeouts":{"total":"forever"}}`, false},
		{`{"foo":1}`, false},
		{`{"task":{"imgae":"x"}}`, false},
		{`{"selector":{"match_label":{}}}`, false},
		{`{"rollout":{"health_check":{"timeout":"1s"}}}`, false},

		// Ports and probes (added after v1).
		{`{"type":"service","task":{"ports":[{"name":"http"},{"name":"admin_2","port":9000}]}}`, true},
		{`{"type":"daemon","task":{"ports":[{"name":"a","port":0},{"name":"b","port":65535}]}}`, true},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","network":"bridge","ports":[{"name":"http","to":8080},{"name":"b","port":80,"to":80}]}}`, true},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","network":"host","ports":[{"name":"http","port":80}]}}`, true},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","ports":[]}}`, true},
		{`{"type":"service","task":{"ports":[]}}`, true},
		{`{"task":{"ports":[{"name":"http"}]}}`, false},
		{`{"type":"ops","task":{"ports":[]}}`, false},
		{`{"type":"service","task":{"engine":"wasm","cmd":[],"image":"/opt/a.wasm","ports":[{"name":"http"}]}}`, false},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","ports":[{"name":"http"}]}}`, false},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","network":"none","ports":[{"name":"http"}]}}`, false},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","network":"host","ports":[{"name":"http","to":80}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http","to":80}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"Http"}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"_a"}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"a` + long[:30] + `"}]}}`, true},
		{`{"type":"service","task":{"ports":[{"name":"a` + long[:31] + `"}]}}`, false},
		{`{"type":"service","task":{"ports":[{"port":80}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"a","port":65536}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"a","port":-1}]}}`, false},
		{`{"type":"service","task":{"engine":"docker","cmd":[],"image":"web:1","network":"bridge","ports":[{"name":"a","to":0}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"a"},{"name":"a"}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"a","port":80},{"name":"b","port":80}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"a","port":0},{"name":"b","port":0}]}}`, true},
		{`{"type":"service","task":{"ports":[{"name":"a","mode":"tcp"}]}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{}}}}}`, true},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"port":"http","path":"/healthz?x=1&y=%2F","status":[204,200,200]},"timeout":"9s"}}}}`, true},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"tcp":{"port":"http"},"timeout":1}}}}`, true},
		{`{"type":"service","rollout":{"health_check":{"probe":{"exec":{"cmd":["check","--ready"]}}}}}`, true},
		{`{"type":"daemon","task":{"engine":"docker","cmd":[],"image":"web:1"},"rollout":{"health_check":{"probe":{"exec":{"cmd":["check"]}}}}}`, true},
		{`{"rollout":{"health_check":{"probe":{"exec":{"cmd":["check"]}}}}}`, false},
		{`{"type":"ops","rollout":{"health_check":{"probe":{"exec":{"cmd":["check"]}}}}}`, false},
		{`{"type":"service","task":{"engine":"wasm","cmd":[],"image":"/opt/a.wasm"},"rollout":{"health_check":{"probe":{"exec":{"cmd":["check"]}}}}}`, false},
		{`{"type":"service","rollout":{"health_check":{"probe":{}}}}`, false},
		{`{"type":"service","rollout":{"health_check":{"probe":{"timeout":"1s"}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"tcp":{},"exec":{"cmd":["x"]}}}}}`, false},
		{`{"type":"service","rollout":{"health_check":{"probe":{"exec":{"cmd":[]}}}}}`, false},
		{`{"type":"service","rollout":{"health_check":{"probe":{"exec":{"cmd":[""]}}}}}`, false},
		{`{"type":"service","rollout":{"health_check":{"probe":{"exec":{}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"healthz"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"//host/x"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"http://host/x"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"/a b"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"/a#b"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"/%zz"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"path":"/é"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"status":[99]}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"status":[600]}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"http":{"port":"Http"}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"grpc":{}}}}}`, false},
		{`{"type":"service","task":{"ports":[{"name":"http"}]},"rollout":{"health_check":{"probe":{"tcp":{},"timeout":"-1s"}}}}`, false},

		// Schedules (added after v1). Which values a cron field takes,
		// and whether a zone exists, only the validator knows (job.cue
		// says so): those cases are in validate's tests.
		{`{"schedule":{"cron":"15 3 * * *"}}`, true},
		{`{"type":"ops","schedule":{"cron":"@Daily","time_zone":"America/New_York","prohibit_overlap":false}}`, true},
		{`{"schedule":{"cron":"  */20  0-6,22 ? JAN-mar mon-fri ","time_zone":"Etc/GMT+5","prohibit_overlap":true}}`, true},
		{`{"type":"service","schedule":{"cron":"15 3 * * *"}}`, false},
		{`{"type":"daemon","schedule":{"cron":"15 3 * * *"}}`, false},
		{`{"schedule":{}}`, false},
		{`{"schedule":{"time_zone":"UTC"}}`, false},
		{`{"schedule":{"cron":""}}`, false},
		{`{"schedule":{"cron":"0 15 3 * * *"}}`, false},
		{`{"schedule":{"cron":"15 3 * *"}}`, false},
		{`{"schedule":{"cron":"@every 5m"}}`, false},
		{`{"schedule":{"cron":"@yearly"}}`, false},
		{`{"schedule":{"cron":"TZ=UTC 15 3 * * *"}}`, false},
		{`{"schedule":{"cron":"+5 * * * *"}}`, false},
		{`{"schedule":{"cron":15}}`, false},
		{`{"schedule":{"cron":"@daily","time_zone":""}}`, false},
		{`{"schedule":{"cron":"@daily","time_zone":"Local"}}`, false},
		{`{"schedule":{"cron":"@daily","time_zone":"localtime"}}`, false},
		{`{"schedule":{"cron":"@daily","time_zone":"Europe//Berlin"}}`, false},
		{`{"schedule":{"cron":"@daily","time_zone":"./UTC"}}`, false},
		{`{"schedule":{"cron":"@daily","prohibit_overlap":"yes"}}`, false},
		{`{"schedule":{"cron":"@daily","timezone":"UTC"}}`, false},
	}
	for _, c := range cases {
		var patch map[string]any
		if err := json.Unmarshal([]byte(c.patch), &patch); err != nil {
			t.Fatalf("%s: %v", c.patch, err)
		}
		b, _ := json.Marshal(merge(base, patch))
		src := string(b)
		cueErr := checkCUE(t, src)
		goDiags := checkGo(t, src)
		switch {
		case c.valid && cueErr != nil:
			t.Errorf("#Job rejects a valid job %s:\n%s", c.patch, errors.Details(cueErr, nil))
		case c.valid && goDiags.HasErrors():
			t.Errorf("the validator rejects a valid job %s:\n%v", c.patch, goDiags)
		case !c.valid && cueErr == nil:
			t.Errorf("#Job accepts an invalid job %s", c.patch)
		case !c.valid && !goDiags.HasErrors():
			t.Errorf("the validator accepts an invalid job %s", c.patch)
		}
	}
}

var _ = fmt.Sprint

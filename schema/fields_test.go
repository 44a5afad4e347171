package schema_test

import (
	"encoding/json"
	"math/rand/v2"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/selector"
)

// modelPaths walks the JSON tags of t and returns every field path with the
// Go type it has, as the catalog spells paths.
func modelPaths(t reflect.Type, prefix string, out map[string]reflect.Type) {
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := prefix + name
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem() // an optional object (a probe)
		}
		out[p] = ft
		switch {
		case ft.Kind() == reflect.Struct:
			modelPaths(ft, p+".", out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			modelPaths(ft.Elem(), p+"[].", out)
		}
	}
}

// kindOf is the catalog Kind a Go type of the model has.
func kindOf(t reflect.Type) []schema.Kind {
	switch t {
	case reflect.TypeFor[schema.Duration]():
		return []schema.Kind{schema.KindDuration}
	case reflect.TypeFor[schema.Memory]():
		return []schema.Kind{schema.KindMemory}
	}
	switch t.Kind() {
	case reflect.String:
		return []schema.Kind{schema.KindString}
	case reflect.Int:
		return []schema.Kind{schema.KindInt}
	case reflect.Float64:
		return []schema.Kind{schema.KindNumber, schema.KindCPUs}
	case reflect.Bool:
		return []schema.Kind{schema.KindBool}
	case reflect.Map:
		return []schema.Kind{schema.KindStringMap}
	case reflect.Struct:
		return []schema.Kind{schema.KindObject}
	case reflect.Slice:
		switch t.Elem().Kind() {
		case reflect.Struct:
			return []schema.Kind{schema.KindObjectList}
		case reflect.Int:
			return []schema.Kind{schema.KindIntList}
		}
		return []schema.Kind{schema.KindStringList}
	}
	return nil
}

func TestFieldsMatchModel(t *testing.T) {
	model := map[string]reflect.Type{}
	modelPaths(reflect.TypeFor[schema.Job](), "", model)
	if _, ok := model["api_version"]; !ok {
		t.Fatal("schema.Job has no api_version field")
	}
	seen := map[string]bool{}
	for _, f := range schema.Fields {
		if seen[f.Path] {
			t.Errorf("%s: described twice", f.Path)
		}
		seen[f.Path] = true
		typ, ok := model[f.Path]
		if !ok {
			t.Errorf("%s: in the catalog but not in schema.Job", f.Path)
			continue
		}
		if want := kindOf(typ); !slices.Contains(want, f.Kind) {
			t.Errorf("%s: kind %q, but the Go type %s wants one of %q", f.Path, f.Kind, typ, want)
		}
		if f.Description == "" || !strings.HasSuffix(f.Description, ".") {
			t.Errorf("%s: want a description that is a sentence, got %q", f.Path, f.Description)
		}
		if f.Rules != "" && !strings.HasSuffix(f.Rules, ".") {
			t.Errorf("%s: rules %q are not a sentence", f.Path, f.Rules)
		}
		// Only fields that are always written, and objects, have no default.
		always := f.Required || f.Kind == schema.KindObject ||
			len(f.Engines) > 0 && !slices.ContainsFunc(f.Engines, func(e schema.Engine) bool { return !slices.Contains(f.RequiredFor, e) })
		if (f.Default == nil && f.DefaultText == "") != always {
			t.Errorf("%s: default %v, required %v: every optional non-object field needs a default", f.Path, f.Default, f.Required)
		}
		if f.Default != nil && f.DefaultText != "" {
			t.Errorf("%s: a default both as a value and in words", f.Path)
		}
		if len(f.OneOf) > 0 || f.MinItems > 0 {
			for _, m := range f.OneOf {
				if _, ok := schema.LookupField(f.Path + "." + m); !ok {
					t.Errorf("%s: OneOf names %s, which is not a member", f.Path, m)
				}
			}
			if f.MinItems > 0 && f.Kind != schema.KindStringList && f.Kind != schema.KindIntList && f.Kind != schema.KindObjectList {
				t.Errorf("%s: MinItems on a %s", f.Path, f.Kind)
			}
		}
	}
	for p := range model {
		if !seen[p] {
			t.Errorf("%s: in schema.Job but not in the catalog", p)
		}
	}
	// Every object comes before its members, so that readers of the
	// catalog meet a path's parent first.
	for i, f := range schema.Fields {
		if j := strings.LastIndexByte(f.Path, '.'); j >= 0 {
			parent := strings.TrimSuffix(f.Path[:j], "[]")
			if k := slices.IndexFunc(schema.Fields, func(g schema.FieldInfo) bool { return g.Path == parent }); k < 0 || k > i {
				t.Errorf("%s: parent %s missing or after it", f.Path, parent)
			}
		}
	}
}

func TestFieldPatternsCompile(t *testing.T) {
	for _, f := range schema.Fields {
		whole := []string{f.Pattern, f.KeyPattern}
		for _, p := range f.EnginePattern {
			whole = append(whole, p)
		}
		for _, p := range append(whole, f.ReservedKeys...) {
			if _, err := regexp.Compile(p); p != "" && err != nil {
				t.Errorf("%s: %v", f.Path, err)
			}
		}
		for _, p := range whole {
			if p != "" && (!strings.HasPrefix(p, "^") || !strings.HasSuffix(p, "$")) {
				t.Errorf("%s: pattern %q is not anchored at both ends", f.Path, p)
			}
		}
		for _, p := range f.ReservedKeys {
			if !strings.HasPrefix(p, "^") {
				t.Errorf("%s: reserved key pattern %q is not anchored", f.Path, p)
			}
		}
		if len(f.Enum) > 0 && f.Default != nil && !slices.Contains(f.Enum, f.Default.(string)) {
			t.Errorf("%s: default %v is not in the enum", f.Path, f.Default)
		}
	}
}

// minimalJob returns the smallest valid job of type typ (left unwritten for
// the default type) on engine e, optionally with the canary strategy, and
// the paths it writes, whose values are not defaults.
func minimalJob(typ schema.JobType, e schema.Engine, canary bool) (schema.Job, []string) {
	j := schema.NewJob()
	j.Name = "minimal"
	set := []string{"name", "task.engine"}
	if typ != schema.DefaultType {
		j.Type = typ
		set = append(set, "type")
	}
	j.Task.Engine = e
	switch e {
	case schema.Docker:
		j.Task.Image = "busybox:1.36"
		set = append(set, "task.image")
	case schema.Wasm:
		j.Task.Image = "/opt/modules/hello.wasm"
		set = append(set, "task.image")
	case schema.Exec:
		j.Task.Cmd = []string{"/bin/true"}
		set = append(set, "task.cmd")
	}
	if canary {
		j.Rollout.Strategy = schema.Canary
		set = append(set, "rollout.strategy")
	}
	return j, set
}

// lookup finds the value at a catalog path in a decoded canonical document.
func lookup(doc map[string]any, path string) (any, bool) {
	var v any = doc
	for _, p := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

func jsonText(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestFieldDefaults checks every catalog default against what NewJob and
// Normalize give a minimal job, for every type, engine and strategy, and that
// fields that do not apply are absent from the canonical form.
func TestFieldDefaults(t *testing.T) {
	for _, typ := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
		for _, e := range []schema.Engine{schema.Docker, schema.Exec, schema.Wasm} {
			for _, canary := range []bool{false, true} {
				j, set := minimalJob(typ, e, canary)
				schema.Normalize(&j)
				var doc map[string]any
				if err := json.Unmarshal(j.Canonical(), &doc); err != nil {
					t.Fatal(err)
				}
				for _, f := range schema.Fields {
					if strings.Contains(f.Path, "[]") {
						continue
					}
					got, present := lookup(doc, f.Path)
					if schema.AddedAfterV1(f.Path) {
						// Unwritten, so absent: a job from before the
						// field keeps its canonical form.
						if present {
							t.Errorf("%s %s canary=%v: %s = %v is in the canonical form, but it was added after v1 and not written", typ, e, canary, f.Path, got)
						}
						continue
					}
					if !f.AppliesTo(j.Type, j.Task.Engine, j.Rollout.Strategy) {
						if present {
							t.Errorf("%s %s canary=%v: %s = %v is in the canonical form but does not apply", typ, e, canary, f.Path, got)
						}
						continue
					}
					if !present {
						t.Errorf("%s %s canary=%v: %s is missing from the canonical form", typ, e, canary, f.Path)
						continue
					}
					def := f.DefaultFor(typ)
					if def == nil || slices.Contains(set, f.Path) {
						continue
					}
					if g, w := jsonText(t, got), jsonText(t, def); g != w {
						t.Errorf("%s %s canary=%v: %s defaults to %s, the catalog says %s", typ, e, canary, f.Path, g, w)
					}
				}
			}
		}
	}
}

func TestAddedAfterV1(t *testing.T) {
	for path, want := range map[string]bool{
		"task.ports":                              true,
		"task.ports[].to":                         true,
		"rollout.health_check.probe":              true,
		"rollout.health_check.probe.http.status":  true,
		"rollout.health_check.probe.timeout":      true,
		"rollout.health_check":                    false,
		"rollout.health_check.interval":           false,
		"task.inputs[].target":                    false,
		"task":                                    false,
		"schedule":                                true,
		"schedule.cron":                           true,
		"schedule.prohibit_overlap":               true,
		"rollout.health_check.probe.nonexistent":  true, // under a later object
		"rollout.health_check.nonexistent.member": false,
	} {
		if got := schema.AddedAfterV1(path); got != want {
			t.Errorf("AddedAfterV1(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestLookupField(t *testing.T) {
	f, ok := schema.LookupField("task.inputs[].target")
	if !ok || f.Kind != schema.KindString || !f.Required {
		t.Errorf("LookupField(task.inputs[].target) = %+v, %v", f, ok)
	}
	if _, ok := schema.LookupField("task.nope"); ok {
		t.Error("LookupField found an unknown path")
	}
}

// randomStrings returns n deterministic strings of 1..maxTokens tokens.
func randomStrings(seed uint64, n, maxTokens int, tokens []string) []string {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range 1 + r.IntN(maxTokens) {
			b.WriteString(tokens[r.IntN(len(tokens))])
		}
		out[i] = b.String()
	}
	return out
}

// TestPatternsAgreeWithParsers checks the catalog patterns against the Go
// parsers the validator uses, on hand-picked and random strings: the JSON
// Schema must accept what muster accepts and reject what it rejects, up to
// the documented differences (bounds that a regular expression cannot say).
func TestPatternsAgreeWithParsers(t *testing.T) {
	cases := []struct {
		name    string
		pattern string
		accept  func(string) bool
		skip    func(string) bool // documented differences
		corpus  []string
		tokens  []string
	}{
		{
			name: "label key", pattern: schema.LabelKeyPattern,
			accept: func(s string) bool { return selector.ValidateKey(s) == nil },
			corpus: []string{"app", "k8s.io/app", "a.b-c_d", "-a", "a-", "A/b", "example.com/", "/x", "a/b/c",
				strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("a", 63) + ".io/x", strings.Repeat("a", 64) + ".io/x"},
			tokens: []string{"a", "Z", "0", ".", "-", "_", "/", "io"},
		},
		{
			name: "label value", pattern: schema.LabelValuePattern,
			accept: func(s string) bool { return selector.ValidateValue(s) == nil },
			corpus: []string{"", "prod", "a.b", "-a", strings.Repeat("v", 63), strings.Repeat("v", 64)},
			tokens: []string{"a", "Z", "0", ".", "-", "_", "/", " "},
		},
		{
			name: "match expression", pattern: schema.MatchExpressionPattern,
			accept: func(s string) bool { _, err := selector.Parse(s); return err == nil },
			corpus: []string{"region=us", "region==us", "region!=us", "region in (a,b)", "region notin (a, b)", "gpu", "!gpu",
				" ! gpu ", "region in(a)", "region  in (a)", "region in ()", "region in (a,)", "a=b=c", "a===b", "k8s.io/zone = z1",
				"region=", "region!=", "region\tin (a)", "region inside (a)", "(a)", "a b", "in (a)", "!a=b"},
			tokens: []string{"a", "b", "x/y", "k.io/z", "=", "==", "!=", "!", " ", "\t", "in", "notin", "(", ")", ",", "-", "."},
		},
		{
			name: "duration", pattern: schema.DurationPattern,
			accept: func(s string) bool { _, err := schema.ParseDuration(s); return err == nil },
			skip:   func(s string) bool { return strings.HasPrefix(s, "-0") && !strings.ContainsAny(s, "123456789") },
			corpus: []string{"0", "90", "90s", "1h30m", "1.5h", ".5s", "1.s", "1", "+5s", "-5s", "5", "5x", "s", "", "1ms", "1µs", "1us"},
			tokens: []string{"0", "1", "9", ".", "s", "m", "h", "ms", "us", "µs", "ns", "-", "+", " "},
		},
		{
			name: "cpus", pattern: schema.CPUsPattern,
			accept: func(s string) bool { f, err := schema.ParseCPUs(s); return err == nil && f > 0 && f <= 1024 },
			// Exponents and values over 1024 are left to the validator.
			skip: func(s string) bool {
				f, err := schema.ParseCPUs(s)
				return strings.ContainsAny(s, "eE") || err == nil && f > 1024
			},
			corpus: []string{"1", "0.5", ".5", "2.", "500m", "0500m", "0m", "0", "0.0", "m", "1.5m", "-1", "+1", "1e3", "1024", "1025"},
			tokens: []string{"0", "1", "5", ".", "m", "+", "-", "e"},
		},
		{
			name: "memory", pattern: schema.MemoryPattern,
			accept: func(s string) bool { m, err := schema.ParseMemory(s); return err == nil && m >= schema.MinMemory },
			corpus: []string{"4M", "3M", "256M", "1G", "0G", "1Gi", "512Mi", "04M", "M", "1", "1K", "1.5G", "+4M"},
			tokens: []string{"0", "1", "4", "9", "M", "G", "i", "+"},
		},
		{
			name: "absolute clean path", pattern: schema.AbsPathPattern,
			accept: func(s string) bool { return path.IsAbs(s) && path.Clean(s) == s },
			corpus: []string{"/", "/a", "/a/b", "/a/", "//a", "/./a", "/a/..", "/..a", "/.a", "/...", "a", ""},
			tokens: []string{"/", "a", ".", ".."},
		},
	}
	for _, c := range cases {
		re := regexp.MustCompile(c.pattern)
		for _, s := range append(c.corpus, randomStrings(uint64(len(c.name)), 3000, 7, c.tokens)...) {
			if c.skip != nil && c.skip(s) {
				continue
			}
			if got, want := re.MatchString(s), c.accept(s); got != want {
				t.Errorf("%s %q: pattern matches %v, parser accepts %v", c.name, s, got, want)
			}
		}
	}
}

func TestConditions(t *testing.T) {
	for path, want := range map[string]string{
		"name":                   "",
		"count":                  "Only for the `batch` and `service` job types; writing it for another is an error.",
		"task.image":             "Required for the `docker` and `wasm` engines; writing it for another is an error.",
		"task.entrypoint":        "Only for the `docker` engine; writing it for another is an error.",
		"task.cmd":               "Required, and not empty, for the `exec` engine.",
		"rollout.canary_percent": "Only for the `canary` strategy; writing it for another is an error.",
		"task.ports": "Only for the `service` and `daemon` job types; writing it for another is an error. " +
			"Only for the `docker` and `exec` engines; writing it for another is an error.",
		"rollout.health_check.probe":      "Only for the `service` and `daemon` job types; writing it for another is an error.",
		"rollout.health_check.probe.exec": "Only for the `docker` and `exec` engines; writing it for another is an error.",
		"schedule":                        "Only for the `batch` and `ops` job types; writing it for another is an error.",
		"schedule.cron":                   "",
	} {
		f, _ := schema.LookupField(path)
		if got := f.Conditions(); got != want {
			t.Errorf("%s: Conditions() = %q, want %q", path, got, want)
		}
	}
}

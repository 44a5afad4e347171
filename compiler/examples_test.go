package compiler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/format"
	"github.com/muster-dev/muster/schema"
)

// examplesDir holds one directory per example job (or set of jobs), each
// with the same jobs written in all four formats.
const examplesDir = "../examples"

// hashesGolden pins the content address of every example job. Regenerate it
// with MUSTER_UPDATE=1 go test ./compiler/, and review the diff: a changed
// hash means that the canonical form of an existing job changed.
var hashesGolden = filepath.Join(examplesDir, "hashes.golden")

// yamlModeline is the first line of every YAML example, so that editors
// validate it against the published JSON Schema.
const yamlModeline = "# yaml-language-server: $schema=" + schema.JSONSchemaID

func updating() bool { return os.Getenv("MUSTER_UPDATE") != "" }

// exampleDirs returns the example directories, sorted.
func exampleDirs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			dirs = append(dirs, e.Name())
		}
	}
	if len(dirs) < 6 {
		t.Fatalf("want at least 6 example directories, found %d", len(dirs))
	}
	return dirs
}

// exampleFiles returns the job files of one example directory by format.
func exampleFiles(t *testing.T, dir string) map[Format]string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(examplesDir, dir))
	if err != nil {
		t.Fatal(err)
	}
	files := map[Format]string{}
	for _, e := range entries {
		f, ok := FormatOf(e.Name())
		if !ok || e.IsDir() {
			continue
		}
		if prev, dup := files[f]; dup {
			t.Errorf("%s: two %s files, %s and %s: write each job once per format", dir, f, prev, e.Name())
		}
		files[f] = filepath.Join(examplesDir, dir, e.Name())
	}
	return files
}

// compiledExample is one example job as the first format compiled it.
type compiledExample struct {
	dir  string
	spec *schema.Job
}

// TestExamples compiles every example in all four formats, checks that the
// formats agree byte for byte, that the canonical form compiles to itself,
// and pins every hash in examples/hashes.golden.
func TestExamples(t *testing.T) {
	var all []compiledExample
	for _, dir := range exampleDirs(t) {
		files := exampleFiles(t, dir)
		var ref []*schema.Job
		var refFile string
		for _, f := range Formats {
			path, ok := files[f]
			if !ok {
				t.Errorf("%s: no %s file: every example is written in all four formats", dir, f)
				continue
			}
			if parsers[f] == nil {
				t.Logf("%s: the %s frontend is not registered yet; skipping %s", dir, f, path)
				continue
			}
			res := CompileFile(path, "", lang.Options{})
			if len(res.Diags) > 0 {
				t.Errorf("%s: want no diagnostics, got:\n%s", path, res.Diags.Error())
				continue
			}
			if len(res.Jobs) == 0 {
				t.Errorf("%s: holds no job", path)
				continue
			}
			jobs := make([]*schema.Job, len(res.Jobs))
			for i, j := range res.Jobs {
				jobs[i] = j.Spec
			}
			if ref == nil {
				ref, refFile = jobs, path
				continue
			}
			if len(jobs) != len(ref) {
				t.Errorf("%s holds %d jobs, %s holds %d", path, len(jobs), refFile, len(ref))
				continue
			}
			for i := range jobs {
				got, want := jobs[i].Canonical(), ref[i].Canonical()
				if !bytes.Equal(got, want) {
					t.Errorf("%s: job %d differs from %s:\n%s\n%s\n%s",
						path, i, refFile, firstDiff(got, want), got, want)
				}
			}
		}
		for _, j := range ref {
			checkCanonicalFixpoint(t, dir, j)
			all = append(all, compiledExample{dir: dir, spec: j})
		}
	}
	checkHashesGolden(t, all)
	checkCoverage(t, all)
}

// checkCanonicalFixpoint compiles the canonical bytes of j as a JSON job
// file: normalizing is idempotent, so they must come back unchanged.
func checkCanonicalFixpoint(t *testing.T, dir string, j *schema.Job) {
	t.Helper()
	canon := j.Canonical()
	res := Compile(dir+"/canonical.json", canon, JSON, lang.Options{})
	if len(res.Diags) > 0 || len(res.Jobs) != 1 {
		t.Errorf("%s: the canonical form of %s does not compile: %v", dir, j.Name, res.Diags)
		return
	}
	if again := res.Jobs[0].Spec.Canonical(); !bytes.Equal(again, canon) {
		t.Errorf("%s: compiling the canonical form of %s changes it:\n%s\n%s", dir, j.Name, canon, again)
	}
}

func checkHashesGolden(t *testing.T, all []compiledExample) {
	t.Helper()
	var b strings.Builder
	for _, e := range all {
		fmt.Fprintf(&b, "%s  %s/%s  %s\n", e.spec.Hash(), e.spec.Namespace, e.spec.Name, e.dir)
	}
	got := b.String()
	if updating() {
		if err := os.WriteFile(hashesGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(hashesGolden)
	if err != nil {
		t.Fatalf("%v (run MUSTER_UPDATE=1 go test ./compiler/ to create it)", err)
	}
	if got != string(want) {
		t.Errorf("example hashes drifted from %s (if the change is intended, regenerate with MUSTER_UPDATE=1):\ngot:\n%swant:\n%s",
			hashesGolden, got, want)
	}
}

// checkCoverage keeps the examples honest: together they must use every
// job type, engine, strategy, selector form and input source kind.
func checkCoverage(t *testing.T, all []compiledExample) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range all {
		j := e.spec
		seen["type "+string(j.Type)] = true
		seen["engine "+string(j.Task.Engine)] = true
		seen["strategy "+string(j.Rollout.Strategy)] = true
		if j.Rollout.CanaryPercent > 0 {
			seen["canary_percent"] = true
		}
		if j.Rollout.Strategy == schema.Canary && j.Rollout.AutoPromote {
			seen["auto_promote"] = true
		}
		if len(j.Selector.MatchLabels) > 0 {
			seen["match_labels"] = true
		}
		if len(j.Selector.MatchIDs) > 0 {
			seen["match_ids"] = true
		}
		for _, x := range j.Selector.MatchExpressions {
			switch {
			case strings.HasPrefix(x, "!"):
				seen["expr !key"] = true
			case strings.Contains(x, "!="):
				seen["expr !="] = true
			case strings.Contains(x, "="):
				seen["expr ="] = true
			case strings.Contains(x, " notin ("):
				seen["expr notin"] = true
			case strings.Contains(x, " in ("):
				seen["expr in"] = true
			default:
				seen["expr key"] = true
			}
		}
		for _, in := range j.Task.Inputs {
			kind, _, _ := strings.Cut(in.Source, ":")
			seen["input "+kind] = true
		}
		if len(j.Task.Outputs) > 0 {
			seen["outputs"] = true
		}
		if len(j.Task.Env) > 0 {
			seen["env"] = true
		}
		if j.Timeouts != (schema.Timeouts{}) {
			seen["timeouts"] = true
		}
		for _, p := range j.Task.Ports {
			seen["ports"] = true
			if p.To != 0 {
				seen["port to"] = true
			}
		}
		if k := j.Rollout.HealthCheck.Probe.Kind(); k != "" {
			seen["probe "+k] = true
		}
		if s := j.Schedule; s != nil {
			seen["schedule"] = true
			if s.TimeZone != schema.DefaultTimeZone {
				seen["schedule time_zone"] = true
			}
		}
	}
	want := []string{
		"type batch", "type ops", "type service", "type daemon",
		"engine docker", "engine exec", "engine wasm",
		"strategy immediate", "strategy rolling", "strategy canary", "canary_percent", "auto_promote",
		"match_labels", "match_ids", "expr =", "expr !=", "expr in", "expr notin", "expr key", "expr !key",
		"input file", "input https", "input sha256", "input job", "outputs", "env", "timeouts",
		"ports", "port to", "probe http", "schedule", "schedule time_zone",
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("no example covers %s", w)
		}
	}
}

// firstDiff describes where a and b first differ.
func firstDiff(a, b []byte) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			lo := max(0, i-40)
			return fmt.Sprintf("first difference at byte %d: ...%s... vs ...%s...", i, a[lo:min(len(a), i+40)], b[lo:min(len(b), i+40)])
		}
	}
	return fmt.Sprintf("one is a prefix of the other (%d and %d bytes)", len(a), len(b))
}

// TestExamplesYAMLModeline checks that every YAML example starts with the
// yaml-language-server modeline that points editors at the JSON Schema.
func TestExamplesYAMLModeline(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		path, ok := exampleFiles(t, dir)[YAML]
		if !ok {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if first, _, _ := strings.Cut(string(src), "\n"); first != yamlModeline {
			t.Errorf("%s: the first line is %q, want %q", path, first, yamlModeline)
		}
	}
}

// jobSchema compiles the published JSON Schema.
func jobSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSONSchema()))
	if err != nil {
		t.Fatalf("the JSON Schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schema.JSONSchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schema.JSONSchemaID)
	if err != nil {
		t.Fatalf("the JSON Schema does not compile: %v", err)
	}
	return sch
}

// TestExamplesJSONSchema validates every example against the published JSON
// Schema: the canonical form of every job, each document of the YAML files
// and each job of the JSON files, as an editor or CI would.
func TestExamplesJSONSchema(t *testing.T) {
	sch := jobSchema(t)
	validate := func(what string, doc []byte) {
		t.Helper()
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
		if err != nil {
			t.Errorf("%s: %v", what, err)
			return
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not satisfy the JSON Schema: %v", what, err)
		}
	}
	for _, dir := range exampleDirs(t) {
		files := exampleFiles(t, dir)
		if path, ok := files[JSON]; ok {
			res := CompileFile(path, "", lang.Options{})
			for _, j := range res.Jobs {
				validate(fmt.Sprintf("the canonical form of %s/%s", j.Spec.Namespace, j.Spec.Name), j.Spec.Canonical())
			}
			for i, doc := range jsonJobs(t, path) {
				validate(fmt.Sprintf("%s (job %d)", path, i), doc)
			}
		}
		if path, ok := files[YAML]; ok {
			for i, doc := range yamlDocuments(t, path) {
				validate(fmt.Sprintf("%s (document %d)", path, i), doc)
			}
		}
	}
}

// jsonJobs returns the job objects of a JSON job file, each as JSON.
func jsonJobs(t *testing.T, path string) [][]byte {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	src = bytes.TrimSpace(src)
	if len(src) > 0 && src[0] == '[' {
		var items []json.RawMessage
		if err := json.Unmarshal(src, &items); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out := make([][]byte, len(items))
		for i, it := range items {
			out[i] = it
		}
		return out
	}
	return [][]byte{src}
}

// yamlDocuments returns the non-empty documents of a YAML file, each as JSON.
func yamlDocuments(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var out [][]byte
	for {
		var doc any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc == nil {
			continue
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, b)
	}
	return out
}

// TestExampleFormatsComplete lists, once, the formats whose frontend is not
// registered yet, so that a run makes the gap visible.
func TestExampleFormatsComplete(t *testing.T) {
	var missing []string
	for _, f := range Formats {
		if parsers[f] == nil {
			missing = append(missing, string(f))
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		t.Skipf("frontends not registered yet: %s; their example files are not compiled", strings.Join(missing, ", "))
	}
}

// TestExamplesFormatted checks that every example is laid out as `muster fmt`
// writes it, so that users who copy one start from a formatted file.
// MUSTER_UPDATE=1 formats them.
func TestExamplesFormatted(t *testing.T) {
	for _, dir := range exampleDirs(t) {
		for f, path := range exampleFiles(t, dir) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, diags := format.Source(path, string(f), src)
			if len(diags) > 0 {
				t.Errorf("%s: %v", path, diags)
				continue
			}
			if bytes.Equal(got, src) {
				continue
			}
			if updating() {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Errorf("%s is not formatted (run muster fmt on it, or MUSTER_UPDATE=1 go test ./compiler/)", path)
		}
	}
}

// v1Hashes are the example hashes of the first release of muster/v1, before
// fields were added to it (task.ports, rollout.health_check.probe): such
// fields stay out of the canonical form while unwritten (docs/spec.md
// section 3), so these jobs keep these hashes for good, whatever
// MUSTER_UPDATE=1 rewrites.
var v1Hashes = []string{
	"sha256:ea0fb8a6ab215ea734276bd8a48855926d007a93a360e45f03b28d92ad3b1d04  edge/edge-filter  edge-filter",
	"sha256:7cb496ae7e4880e5f1887712245636206b5889d41854d83744dc99605c3db3f6  default/hello  hello",
	"sha256:1c735a6698b8f06476625eed206cd5aa25d7a8f5c497b226d6d01b123f49641a  infra/log-rotate  log-rotate",
	"sha256:918117c2e5edf56205914aa3df0cab2d94f702473d09a87c355b996e70f7eff8  data/db-backup  multi",
	"sha256:8ca86bcb724a1f899a16b5280f6233ae55a54829e2140ec93549740ec73e1a6a  data/db-backup-prune  multi",
	"sha256:aba0df0029168efca32b308416a4ae1189cce8b94c1effaa8bf71ea965190ab7  analytics/nightly-report  nightly-report",
	"sha256:8cb7c2740788c5b0a0acf165aa569a80677a591911a6dcdd75cf4519d7536d01  monitoring/node-exporter  node-exporter",
	"sha256:143c770ab10574b20a10697a357d7b976afad9dd528e87993835c23f7bdcd9be  analytics/report-digest  report-digest",
	"sha256:3984f934ffe93fdb4d055d916785ea569fedfe5abc325e0697afedfad91b358c  shop/web  web",
}

// TestV1ExamplesKeepTheirHashes compiles the examples of the first release
// in every format and requires their first-release hashes, and the same
// hash once an empty task.ports and a null probe are written into their
// JSON: a field added later changes no old job.
func TestV1ExamplesKeepTheirHashes(t *testing.T) {
	for _, line := range v1Hashes {
		fields := strings.Fields(line)
		want, ref, dir := fields[0], fields[1], fields[2]
		for f, path := range exampleFiles(t, dir) {
			res := CompileFile(path, "", lang.Options{})
			found := false
			for _, j := range res.Jobs {
				if j.Spec.Namespace+"/"+j.Spec.Name != ref {
					continue
				}
				found = true
				if got := j.Spec.Hash(); got != want {
					t.Errorf("%s (%s): %s hashes %s, in the first release %s", path, f, ref, got, want)
				}
				var doc map[string]any
				if err := json.Unmarshal(j.Spec.Canonical(), &doc); err != nil {
					t.Fatal(err)
				}
				if j.Spec.Type.LongRunning() && j.Spec.Task.Engine != schema.Wasm {
					doc["task"].(map[string]any)["ports"] = []any{}
				}
				doc["rollout"].(map[string]any)["health_check"].(map[string]any)["probe"] = nil
				b, _ := json.Marshal(doc)
				again := Compile(dir+"/empty-later-fields.json", b, JSON, lang.Options{})
				if len(again.Jobs) != 1 || again.Diags.HasErrors() {
					t.Errorf("%s with empty ports and a null probe: %v", ref, again.Diags)
				} else if got := again.Jobs[0].Spec.Hash(); got != want {
					t.Errorf("%s with empty ports and a null probe hashes %s, want %s", ref, got, want)
				}
			}
			if !found {
				t.Errorf("%s: no job %s", path, ref)
			}
		}
	}
}

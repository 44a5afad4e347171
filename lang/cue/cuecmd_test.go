package cue

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"cuelang.org/go/cue/ast"
	"cuelang.org/go/cue/parser"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/vars"
	"github.com/muster-dev/muster/schema"
)

// The differential test of this file runs the cue command itself: every
// CUE example and every CUE golden case of the compiler, exported by
// `cue export` with muster's #Job unified and the same -t tags, must give
// exactly the jobs muster's frontend exports (Parse's trees: #Job's
// defaults filled, before the validator fills its own and normalizes), or
// be rejected by both.

const (
	repoRoot    = "../.."
	cueModule   = "cuelang.org/go"
	cueBuildMax = 10 * time.Minute
)

// cueVersion is the version of cuelang.org/go that go.mod requires.
func cueVersion(t *testing.T) string {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if i := slices.Index(fields, cueModule); i >= 0 && i+1 < len(fields) {
			return fields[i+1]
		}
	}
	t.Fatalf("go.mod does not require %s", cueModule)
	return ""
}

// cueCommand returns the cue command of the version go.mod requires. It is
// built once with `go install` into the user's cache directory, so that
// reruns do not build it again; the test is skipped, saying why, where it
// cannot be built (no go command, no network for the module proxy).
func cueCommand(t *testing.T) string {
	t.Helper()
	version := cueVersion(t)
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Skipf("no user cache directory to keep the cue command in: %v", err)
	}
	dir := filepath.Join(cache, "muster-test", "cue-"+version)
	exe := filepath.Join(dir, "cue")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if _, err := os.Stat(exe); err == nil {
		return exe
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("cannot build the cue command %s: no go command in PATH", version)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("cannot create %s for the cue command: %v", dir, err)
	}
	gobin, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		t.Skipf("cannot build the cue command: %v", err)
	}
	defer os.RemoveAll(gobin)
	ctx, cancel := context.WithTimeout(context.Background(), cueBuildMax)
	defer cancel()
	t.Logf("building the cue command %s into %s (once)", version, dir)
	cmd := exec.CommandContext(ctx, goCmd, "install", cueModule+"/cmd/cue@"+version)
	cmd.Dir = gobin // outside the module: go install pkg@version ignores go.mod anyway
	cmd.Env = append(os.Environ(), "GOBIN="+gobin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build the cue command %s (go install %s/cmd/cue@%s: %v):\n%s", version, cueModule, version, err, lastLines(out, 10))
	}
	// Another test process may have built it meanwhile: a rename replaces
	// it with an identical file.
	if err := os.Rename(filepath.Join(gobin, filepath.Base(exe)), exe); err != nil {
		t.Skipf("cannot keep the cue command in %s: %v", dir, err)
	}
	return exe
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// exportCase is one CUE file with its variables.
type exportCase struct {
	name  string
	file  string            // the file name, as the case writes it
	src   []byte            // the file
	extra map[string][]byte // var files, by name
	opts  lang.Options
	valid bool // the compiler must accept it (golden cases: testdata/valid)
}

// exportCases gathers every CUE example (with and without a variable for
// each of its tags) and every CUE golden case of the compiler.
func exportCases(t *testing.T) []exportCase {
	t.Helper()
	var cases []exportCase
	examples, err := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "*.cue"))
	if err != nil || len(examples) < 6 {
		t.Fatalf("want at least 6 CUE examples, found %d (%v)", len(examples), err)
	}
	for _, path := range examples {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := "examples/" + filepath.Base(filepath.Dir(path))
		cases = append(cases, exportCase{name: name, file: filepath.Base(path), src: src, valid: true})
		if tags := tagNames(t, filepath.Base(path), src); len(tags) > 0 {
			set := map[string]string{}
			for _, tag := range tags {
				set[tag] = "9.9.9"
			}
			cases = append(cases, exportCase{name: name + "/tagged", file: filepath.Base(path), src: src, valid: true,
				opts: lang.Options{Vars: set}})
		}
	}
	goldens, err := filepath.Glob(filepath.Join(repoRoot, "compiler", "testdata", "*", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range goldens {
		ar, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c := exportCase{
			name:  "golden/" + filepath.Base(filepath.Dir(path)) + "/" + strings.TrimSuffix(filepath.Base(path), ".txtar"),
			extra: map[string][]byte{},
			valid: filepath.Base(filepath.Dir(path)) == "valid",
		}
		for _, f := range ar.Files {
			switch {
			case f.Name == "in.cue":
				c.file, c.src = f.Name, f.Data
			case f.Name == "vars":
				c.opts.Vars = keyValues(t, f.Data)
			case f.Name == "env":
				c.opts.Env = keyValues(t, f.Data)
			case strings.HasPrefix(f.Name, "vars."):
				c.opts.VarFiles = append(c.opts.VarFiles, f.Name)
				c.extra[f.Name] = f.Data
			}
		}
		if c.file != "" {
			cases = append(cases, c)
		}
	}
	return cases
}

func keyValues(t *testing.T, data []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("want name=value, got %q", line)
		}
		m[k] = v
	}
	return m
}

// tagNames lists the variables the @tag attributes of a file name, as
// muster finds them.
func tagNames(t *testing.T, filename string, src []byte) []string {
	t.Helper()
	f, err := parser.ParseFile(filename, src)
	if err != nil {
		return nil
	}
	p := &fileParser{filename: filename, src: src}
	var names []string
	for _, tag := range p.findTags(f) {
		if !slices.Contains(names, tag.name) {
			names = append(names, tag.name)
		}
	}
	sort.Strings(names)
	return names
}

// cueTags are the -t flags that give cue the values muster injects: the
// text of each variable a tag of the file names (cue rejects -t for a tag
// no file has).
func cueTags(t *testing.T, c exportCase) []string {
	t.Helper()
	values, diags := vars.Collect(c.opts)
	if diags.HasErrors() {
		t.Fatalf("variables: %v", diags)
	}
	var args []string
	for _, name := range tagNames(t, c.file, c.src) {
		v, ok := values[name]
		if !ok {
			continue
		}
		text, ok := varText(v)
		if !ok {
			t.Fatalf("variable %s cannot fill a tag", name)
		}
		args = append(args, "-t", name+"="+text)
	}
	return args
}

// jobsField finds a file of several jobs, as muster tells them apart.
var jobsField = regexp.MustCompile(`(?m)^jobs\s*:`)

// cueExport runs `cue export` on the case's file beside muster's #Job
// (exactly what `muster schema --format cue` prints), unified with #Job as
// muster does: the file's top level, or each element of its jobs with no
// other regular field beside them. The file's text stays as written, inside
// a hidden field after its package clause and imports:
//
//	package jobs
//	import ...
//	_in: {
//		<the rest of the file>
//	}
//	out: #Job & _in
//
// and `cue export -e out` prints the jobs. (Embedding #Job at the top level
// instead would allow any field declared beside it, at every depth.)
func cueExport(t *testing.T, cueExe, dir string, c exportCase) ([]byte, error) {
	t.Helper()
	f, err := parser.ParseFile(c.file, c.src)
	if err != nil {
		return nil, fmt.Errorf("does not parse: %v", err)
	}
	pkg, split := "jobs", 0
	for _, d := range f.Decls {
		switch x := d.(type) {
		case *ast.Package:
			pkg = x.Name.Name
			split = x.End().Offset()
			continue
		case *ast.ImportDecl, *ast.Attribute:
			split = d.End().Offset()
			continue
		}
		break
	}
	head, body := string(c.src[:split]), string(c.src[split:])
	if f.PackageName() == "" {
		head = "package " + pkg + "\n" + head
	}
	out := "out: #Job & _in\n"
	if jobsField.Match(c.src) {
		out = "out: close({jobs: [...#Job]}) & _in\n"
	}
	files := map[string]string{
		c.file:           head + "\n_in: {\n" + body + "\n}\n" + out,
		"muster_job.cue": "package " + pkg + "\n\n" + schema.CUEDefinition,
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"export", "--out", "json", "-e", "out", c.file, "muster_job.cue"}, cueTags(t, c)...)
	cmd := exec.Command(cueExe, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	return stdout, nil
}

// treeJSON is a tree as plain JSON values, numbers kept as written.
func treeJSON(v *lang.Value) any {
	switch v.Kind {
	case lang.Map:
		m := make(map[string]any, len(v.Fields))
		for _, f := range v.Fields {
			m[f.Key] = treeJSON(f.Value)
		}
		return m
	case lang.List:
		l := make([]any, len(v.List))
		for i, e := range v.List {
			l[i] = treeJSON(e)
		}
		return l
	case lang.String:
		return v.Str
	case lang.Number:
		return json.Number(v.Number)
	case lang.Bool:
		return v.Bool
	}
	return nil
}

// sameJSON compares two JSON values, numbers by value.
func sameJSON(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		rx, ok1 := new(big.Rat).SetString(string(x))
		ry, ok2 := new(big.Rat).SetString(string(y))
		return ok1 && ok2 && rx.Cmp(ry) == 0
	}
	return a == b
}

// TestSameAsCueExport is the differential test against the cue command.
func TestSameAsCueExport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the cue command (built once into the user cache directory)")
	}
	cases := exportCases(t)
	cueExe := cueCommand(t)
	tagged := 0
	for _, c := range cases {
		if len(tagNames(t, c.file, c.src)) > 0 {
			tagged++
		}
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, c.file), c.src, 0o644); err != nil {
				t.Fatal(err)
			}
			for name, data := range c.extra {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Chdir(dir) // var files are named relative to the case

			jobs, diags := Parse(c.file, c.src, c.opts)
			out, cueErr := cueExport(t, cueExe, dir, c)
			switch {
			case diags.HasErrors() && cueErr != nil:
				if c.valid {
					t.Errorf("a valid case, rejected by muster and by cue export:\nmuster:\n%s\ncue: %v", diagLines(diags), cueErr)
				}
				return
			case diags.HasErrors():
				t.Fatalf("muster rejects what cue export accepts:\nmuster:\n%s\ncue export:\n%s", diagLines(diags), out)
			case cueErr != nil:
				t.Fatalf("cue export rejects what muster accepts:\ncue: %v", cueErr)
			}
			var got any
			if jobsField.Match(c.src) {
				list := make([]any, len(jobs))
				for i, j := range jobs {
					list[i] = treeJSON(j)
				}
				got = map[string]any{"jobs": list}
			} else {
				if len(jobs) != 1 {
					t.Fatalf("muster read %d jobs from a single-job file", len(jobs))
				}
				got = treeJSON(jobs[0])
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.UseNumber()
			var want any
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("cue export printed no JSON: %v\n%s", err, out)
			}
			if !sameJSON(got, want) {
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				t.Errorf("muster and cue export differ\nmuster:\n%s\ncue export:\n%s", g, w)
			}
		})
	}
	if tagged < 8 {
		t.Errorf("only %d cases use @tag; the tagged golden cases are missing", tagged)
	}
}

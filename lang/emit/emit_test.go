package emit_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/emit"
	langjson "github.com/muster-dev/muster/lang/json"
	langyaml "github.com/muster-dev/muster/lang/yaml"
)

// hashes compiles src as format and returns the hash of every job, or
// fails with the diagnostics and the source.
func hashes(t *testing.T, name string, format compiler.Format, src []byte) []string {
	t.Helper()
	res := compiler.Compile(name, src, format, lang.Options{})
	if res.Diags.HasErrors() {
		t.Fatalf("%s does not compile: %v\n%s", name, res.Diags, src)
	}
	var out []string
	for _, j := range res.Jobs {
		out = append(out, j.Spec.Hash())
	}
	return out
}

// TestWriteKeepsJobs: every YAML and JSON file of examples/ and of the
// compiler's valid cases, parsed into trees and written in each format,
// compiles to the jobs of the original.
func TestWriteKeepsJobs(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../../examples/*/*.yaml", "../../examples/*/*.json"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 10 {
		t.Fatalf("found %d example files", len(files))
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		format, _ := compiler.FormatOf(file)
		parse := langyaml.Parse
		if format == compiler.JSON {
			parse = langjson.Parse
		}
		trees, diags := parse(file, src, lang.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", file, diags)
		}
		want := hashes(t, file, format, src)
		for _, f := range emit.Formats {
			out, err := emit.Write(f, trees, emit.Options{Comment: "Written by the emit test.\nSecond line."})
			if err != nil {
				t.Fatalf("%s as %s: %v", file, f, err)
			}
			got := hashes(t, file+"."+f, compiler.Format(f), out)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("%s written as %s hashes %v, want %v:\n%s", file, f, got, want, out)
			}
		}
	}
}

// hostile is a job whose strings carry what each format treats specially:
// HCL and CUE interpolation, YAML words that read as other types, lines,
// quotes, keys that are not identifiers.
const hostile = `{
  "name": "odd",
  "description": "line one\nline \"two\" ${var.x} %{ if } \\(x) # not a comment",
  "labels": {"app.kubernetes.io/name": "odd", "true": "yes", "x_y": ""},
  "meta": {"_hidden": "no", "#def": "no", "null": "null", "1.5": "1.5", "note": "tab\there"},
  "priority": 0,
  "task": {
    "engine": "docker",
    "image": "registry.local/odd:1",
    "entrypoint": [],
    "cmd": ["sh", "-c", "echo ${HOME} && echo '%{x}' \\(y)", "true", "0x1F", "-1"],
    "env": {"_UNDER": "1", "A": "on", "B": "~", "C": "- x"},
    "resources": {"cpus": 0.25, "memory": "1G"},
    "inputs": [{"source": "https://example.com/a?b=c&d=e", "target": "/in/a"}]
  },
  "rollout": {"health_check": {"max_error_rate": 1e-1}},
  "timeouts": {"execution": 90}
}`

func TestWriteHostileStrings(t *testing.T) {
	trees, diags := langjson.Parse("odd.json", []byte(hostile), lang.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := hashes(t, "odd.json", compiler.JSON, []byte(hostile))
	for _, f := range emit.Formats {
		out, err := emit.Write(f, trees, emit.Options{Comment: "a comment */ with ${x}\n# and a hash"})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got := hashes(t, "odd."+f, compiler.Format(f), out); strings.Join(got, "") != strings.Join(want, "") {
			t.Errorf("as %s: hash %v, want %v:\n%s", f, got, want, out)
		}
	}
}

func TestWriteOrdersFields(t *testing.T) {
	src := `{"task": {"env": {"B": "2", "A": "1"}, "cmd": ["x"], "engine": "exec"}, "priority": 7, "name": "late"}`
	trees, _ := langjson.Parse("late.json", []byte(src), lang.Options{})
	out, err := emit.Write("yaml", trees, emit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := "# yaml-language-server: $schema=https://muster.dev/schema/job/v1.json\n" +
		"name: late\npriority: 7\ntask:\n  engine: exec\n  cmd: [x]\n  env:\n    A: \"1\"\n    B: \"2\"\n"
	if string(out) != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}

func TestWriteRefuses(t *testing.T) {
	trees, _ := langjson.Parse("x.json", []byte(`{"task": {"engine": "exec", "cmd": ["x"]}}`), lang.Options{})
	if _, err := emit.Write("hcl", trees, emit.Options{}); err == nil || !strings.Contains(err.Error(), "no name") {
		t.Errorf("HCL of a job without a name: %v", err)
	}
	if _, err := emit.Write("toml", trees, emit.Options{}); err == nil {
		t.Error("toml: no error")
	}
	if _, err := emit.Write("yaml", nil, emit.Options{}); err == nil {
		t.Error("no jobs: no error")
	}
	if _, err := emit.Write("yaml", []*lang.Value{{Kind: lang.String, Str: "x"}}, emit.Options{}); err == nil {
		t.Error("a string job: no error")
	}
}

// FuzzWrite: a JSON job that compiles, written in each format, compiles
// to the same hash.
func FuzzWrite(f *testing.F) {
	f.Add([]byte(hostile))
	f.Add([]byte(`{"name": "a", "task": {"engine": "exec", "cmd": ["a b", "c\"d"]}}`))
	f.Add([]byte(`[{"name": "a", "type": "ops", "task": {"engine": "wasm", "image": "/m.wasm"}}, {"name": "b", "task": {"engine": "exec", "cmd": ["x"]}}]`))
	f.Fuzz(func(t *testing.T, src []byte) {
		res := compiler.Compile("f.json", src, compiler.JSON, lang.Options{})
		if res.Diags.HasErrors() || len(res.Jobs) == 0 {
			return
		}
		trees, _ := langjson.Parse("f.json", src, lang.Options{})
		var want []string
		for _, j := range res.Jobs {
			want = append(want, j.Spec.Hash())
		}
		for _, format := range emit.Formats {
			out, err := emit.Write(format, trees, emit.Options{})
			if err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			if got := hashes(t, "f."+format, compiler.Format(format), out); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("as %s: %v, want %v\n%s", format, got, want, out)
			}
		}
	})
}

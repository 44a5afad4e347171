package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/lang"
)

// TestLayout: what muster accepted before it read exactly HCL (several
// arguments in a one-line block, commas between arguments, a block in a
// one-line block, items sharing a line) is refused, at the offending
// token, with a message that says how to write it in HCL.
func TestLayout(t *testing.T) {
	runCases(t, []parseCase{
		{
			name: "two arguments in a one-line block",
			src:  "job \"a\" {\n  task {\n    input { source = \"s\" target = \"/t\" }\n  }\n}\n",
			diags: []string{
				"3:26: error: input { ... } is on one line but holds several arguments: in HCL a one-line block holds one argument; write `input {`, then each argument on a line of its own, then `}` (task.inputs[0])",
			},
		},
		{
			name: "arguments separated by commas in one-line blocks",
			src:  "job \"a\" {\n  task {\n    engine = \"exec\"\n    input {\n      source = \"s\"\n    }\n    input { source = \"s\", target = \"/t\" }\n  }\n  timeouts { queue = \"1m\",total = 60, }\n}\n",
			diags: []string{
				"7:25: error: input { ... } is on one line but holds several arguments: HCL separates arguments with newlines, not commas, and a one-line block holds one argument; write `input {`, then each argument on a line of its own, then `}` (task.inputs[1])",
				"9:26: error: timeouts { ... } is on one line but holds several arguments: HCL separates arguments with newlines, not commas, and a one-line block holds one argument; write `timeouts {`, then each argument on a line of its own, then `}` (timeouts)",
			},
		},
		{
			name: "a comma after the one argument",
			src:  "job \"a\" {\n  task {\n    output { path = \"/o\" , }\n  }\n}\n",
			diags: []string{
				"3:26: error: remove the comma: in HCL a one-line block holds one argument and no comma, as in output { path = ... } (task.outputs[0])",
			},
		},
		{
			name: "a block in a one-line block",
			src:  "job \"a\" {\n  task { resources { cpus = 1 } }\n}\n",
			diags: []string{
				"2:10: error: task { ... } is on one line but holds the block resources: in HCL a one-line block holds one argument; write `task {`, then resources { ... } on a line of its own, then `}` (task)",
			},
		},
		{
			name: "a job block on one line",
			src:  "job \"b\" { task {\n  engine = \"exec\"\n}\n}\n",
			diags: []string{
				"1:11: error: job \"b\" { ... } is on one line but holds the block task: in HCL a one-line block holds one argument; write `job \"b\" {`, then task { ... } on a line of its own, then `}`",
			},
		},
		{
			name: "a one-line block that goes on",
			src:  "job \"a\" {\n  task { engine = \"exec\"\n    cmd = [\"x\"]\n  }\n}\n",
			diags: []string{
				"2:10: error: engine is on the line of `task {`, which makes task a one-line block that must close on that line: in HCL, start engine on the next line (task)",
			},
		},
		{
			name: "a closing brace after an argument",
			src:  "job \"a\" {\n  task {\n    engine = \"exec\" }\n}\n",
			diags: []string{
				"3:21: error: the closing brace of task goes on a line of its own: `task {` ends its line, which makes task a multi-line block (task)",
			},
		},
		{
			name: "items sharing a line",
			src:  "job \"a\" {\n  count = 1 priority = 2\n}\njob \"b\" {\n  task { engine = \"exec\" } count = 1\n}\njob \"c\" {\n  selector {} timeouts {}\n}\n",
			diags: []string{
				"2:13: error: priority starts on the line of the previous item: in HCL every argument and block ends with a newline; put priority on a line of its own (priority)",
				"5:28: error: count starts on the line of the previous item: in HCL every argument and block ends with a newline; put count on a line of its own (count)",
				"8:15: error: timeouts starts on the line of the previous item: in HCL every argument and block ends with a newline; put timeouts on a line of its own (timeouts)",
			},
		},
		{
			name: "commas between arguments",
			src:  "job \"a\" {\n  count = 1,\n  task {\n    engine = \"exec\", image = \"x\"\n  }\n}\n",
			diags: []string{
				"2:12: error: in HCL an argument ends with a newline, not a comma: remove the comma and put what follows on a line of its own (count)",
				"4:20: error: in HCL an argument ends with a newline, not a comma: remove the comma and put what follows on a line of its own (task.engine)",
			},
		},
		{
			name: "outside jobs",
			src:  "variable \"v\" { type = string, default = \"x\" }\nlocals {\n  a = 1 b = 2\n}\n",
			diags: []string{
				"1:29: error: variable \"v\" { ... } is on one line but holds several arguments: HCL separates arguments with newlines, not commas, and a one-line block holds one argument; write `variable \"v\" {`, then each argument on a line of its own, then `}`",
				"3:9: error: b starts on the line of the previous item: in HCL every argument and block ends with a newline; put b on a line of its own",
				`1:10: error: variable "v" has no value: set it with --var v=..., the environment variable MUSTER_VAR_v=... or a var file, or give it a default`,
			},
		},
		{
			name: "a long header is cut",
			src:  "job \"" + strings.Repeat("é", 40) + "\" { count = 1, priority = 2 }\n",
			diags: []string{
				"1:59: error: job \"" + strings.Repeat("é", 29) + "… { ... } is on one line but holds several arguments: HCL separates arguments with newlines, not commas, and a one-line block holds one argument; write `job \"" + strings.Repeat("é", 29) + "… {`, then each argument on a line of its own, then `}`",
			},
		},
		{
			name: "other syntax errors keep HCL's words",
			src:  "job \"a\" {\n  x = 1 +\n  y = [1,\n}\n",
			diags: []string{
				"2:10: error: Invalid expression: Expected the start of an expression, but found an invalid expression token.",
			},
		},
		{
			name: "commas and braces inside values are HCL",
			src:  "job \"a\" {\n  labels = { a = \"1\", b = \"2\" }\n  task { cmd = [\"a\", \"${upper(\"b\")}\", format(\"%s,%s\", \"c\", \"d\")] }\n  meta = { for k in [\"x\", \"y\"] : k => k }\n  description = <<EOT\n  a = 1, b = 2 }\nEOT\n  rollout { strategy = \"canary\" } // c\n}\n",
			jobs: []string{`{name:"a",labels:{a:"1",b:"2"},task:{cmd:["a","B","c,d"]},meta:{x:"x",y:"y"},description:"  a = 1, b = 2 }\n",rollout:{strategy:"canary"}}`},
		},
	})
}

// TestAcceptedIsPlainHCL: every file muster accepts parses with plain
// hclsyntax.ParseConfig without errors, as any other HCL tool reads it:
// the examples, the valid golden cases, the generated corpus and the HCL
// of docs/jobspec.md. (FuzzParse checks it of every input.)
func TestAcceptedIsPlainHCL(t *testing.T) {
	files := map[string][]byte{}
	read := func(pattern string) {
		paths, err := filepath.Glob(pattern)
		if err != nil || len(paths) == 0 {
			t.Fatalf("no files match %s", pattern)
		}
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[p] = src
		}
	}
	read("../../examples/*/*.hcl")
	read("testdata/corpus/*.hcl")
	golden, _ := filepath.Glob("../../compiler/testdata/valid/hcl-*.txtar")
	for _, p := range golden {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".hcl") {
				files[p+":"+f.Name] = f.Data
			}
		}
	}
	doc, err := os.ReadFile("../../docs/jobspec.md")
	if err != nil {
		t.Fatal(err)
	}
	for i, block := range bytes.Split(doc, []byte("```hcl\n"))[1:] {
		end := bytes.Index(block, []byte("```"))
		if end < 0 {
			t.Fatalf("docs/jobspec.md: HCL block %d does not end", i+1)
		}
		files["docs/jobspec.md#hcl"+string(rune('1'+i))] = block[:end]
	}
	if len(golden) == 0 {
		t.Fatal("no valid HCL golden cases")
	}
	for name, src := range files {
		if _, hd := hclsyntax.ParseConfig(src, name, hcl.InitialPos); hd.HasErrors() {
			t.Errorf("%s: plain hclsyntax refuses it: %v", name, hd)
		}
		for line, fx := range layoutFixes(src, lex(src)) {
			t.Errorf("%s:%d: a layout explanation for a valid file: %s", name, line, fx.msg)
		}
		if strings.Contains(name, ".txtar:") || strings.HasPrefix(name, "docs/") {
			continue // the golden test compiles them, with their variables; docs hold fragments too
		}
		if _, diags := Parse(name, src, lang.Options{}); diags.HasErrors() {
			t.Errorf("%s: %v", name, diags)
		}
	}
}

// TestLayoutMutations joins lines of valid files and puts commas at their
// ends: on every variant hclsyntax accepts, the layout explanations find
// nothing; every variant it refuses, muster refuses too, and the fast path
// agrees with hclsyntax.
func TestLayoutMutations(t *testing.T) {
	paths, _ := filepath.Glob("../../examples/*/*.hcl")
	corpus, _ := filepath.Glob("testdata/corpus/*.hcl")
	paths = append(paths, corpus[:min(len(corpus), 3)]...)
	refused := 0
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range src {
			if c != '\n' {
				continue
			}
			for _, repl := range []string{" ", ",\n"} {
				v := append(append(append([]byte(nil), src[:i]...), repl...), src[i+1:]...)
				_, hd := hclsyntax.ParseConfig(v, "v.hcl", hcl.InitialPos)
				_, diags := Parse("v.hcl", v, lang.Options{})
				switch {
				case !hd.HasErrors():
					for line, fx := range layoutFixes(v, lex(v)) {
						t.Errorf("%s, newline at %d as %q: line %d of a valid file: %s", p, i, repl, line, fx.msg)
					}
				case !diags.HasErrors():
					t.Errorf("%s, newline at %d as %q: accepted, hclsyntax says %v", p, i, repl, hd)
				default:
					refused++
				}
				sameAsSlow(t, p, v, lang.Options{})
			}
		}
	}
	if refused == 0 {
		t.Fatal("no variant was refused: the test reads nothing")
	}
}

func lex(src []byte) hclsyntax.Tokens {
	toks, _ := hclsyntax.LexConfig(src, "t.hcl", hcl.InitialPos)
	return toks
}

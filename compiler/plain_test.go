package compiler

import (
	"testing"
	"time"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/cue"
	"github.com/muster-dev/muster/lang/hcl"
)

func TestPlainCUE(t *testing.T) {
	for src, want := range map[string]bool{
		"":                                    true,
		"// only a comment\n":                 true,
		"package jobs\n\nname: \"web\"\n":     true,
		"name: \"web\"\ncount: 3\n":           true,
		"a: {b: [1, -2.5, 1e3, 0x1f, 2Ki]}\n": true,
		"\"app.io/name\": \"x\"\nb: null\nc: true\nd: false\n": true,
		"a?: 1\nb!: 2\n":                  true,
		"s: \"escaped \\\" quote \\n\"\n": true,
		"a: b\n":                          false, // a reference
		"a: 1\nb: a\n":                    false,
		"a: -b\n":                         false,
		"_x: 1\n":                         false, // hidden fields exist to be referred to
		"#D: 1\n":                         false,
		"a: \"\\(b)\"\n":                  false, // interpolation
		"a: \"\"\"\n\tx\n\t\"\"\"\n":      false, // multi-line string
		"a: #\"raw\"#\n":                  false,
		"a: 'bytes'\n":                    false,
		"import \"list\"\na: 1\n":         false,
		"a: [for x in [1] {x}]\n":         false,
		"let x = 1\na: x\n":               false,
		"a: 1 + 2\n":                      false,
		"a: *1 | int\n":                   false,
		"a: [...]\n":                      false,
		"a: 1 @tag(a)\n":                  false,
		"a: strings.Repeat(\"x\", 3)\n":   false,
		"(a): 1\n":                        false,
		"a: b: c\n":                       false,
		"a: \"unterminated\n":             false,
		"package\n":                       false,
		"a: é\n":                          false,
	} {
		if got := plainCUE([]byte(src)); got != want {
			t.Errorf("plainCUE(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestPlainHCL(t *testing.T) {
	for src, want := range map[string]bool{
		"":                                     true,
		"# comment\n// comment\n/* block */\n": true,
		"job \"web\" {\n  count = 3\n}\n":      true,
		"job \"web\" {\n  cmd = [\"a\", \"b\"]\n  labels = { a = \"x\", \"b.c\" = \"y\" }\n}\n": true,
		"job \"web\" {\n  image = var.image\n}\n":                                               true,
		"job \"web\" {\n  image = \"web:${var.tag}\"\n}\n":                                      true,
		"job \"web\" {\n  x = \"$${not} %%{this}\"\n}\n":                                        true,
		"variable \"tag\" {\n  default = \"1\"\n}\n":                                            true,
		"job \"web\" {\n  n = -1.5e3\n}\n":                                                      true,
		"job \"web\" {\n  image = local.x\n}\n":                                                 false,
		"locals {\n  x = 1\n}\n":                                                                false,
		"job \"web\" {\n  image = upper(\"x\")\n}\n":                                            false,
		"job \"web\" {\n  x = [for v in var.l : v]\n}\n":                                        false,
		"job \"web\" {\n  x = \"${local.a}\"\n}\n":                                              false,
		"job \"web\" {\n  x = \"${var.a}${upper(var.a)}\"\n}\n":                                 false,
		"job \"web\" {\n  x = \"%{ for v in var.l }${v}%{ endfor }\"\n}\n":                      false,
		"job \"web\" {\n  x = <<EOT\nhi\nEOT\n}\n":                                              false,
		"job \"web\" {\n  x = var.l[*].a\n}\n":                                                  false,
		"job \"web\" {\n  x = var.a.b\n}\n":                                                     false,
		"job \"web\" {\n  x = 1 + 2\n}\n":                                                       false,
		"job \"web\" {\n  x = var.a ? 1 : 2\n}\n":                                               false,
		"job \"web\" {\n  x = \"unterminated\n}\n":                                              false,
		"/* unterminated": false,
	} {
		if got := plainHCL([]byte(src)); got != want {
			t.Errorf("plainHCL(%q) = %v, want %v", src, got, want)
		}
	}
}

// size counts the values of trees.
func size(vs []*lang.Value) int {
	n := 0
	for _, v := range vs {
		if v == nil {
			continue
		}
		n++
		n += size(v.List)
		for _, f := range v.Fields {
			if f != nil {
				n += size([]*lang.Value{f.Value})
			}
		}
	}
	return n
}

// maxJobDefaults bounds the values #Job adds to one job (its defaults).
const maxJobDefaults = 200

// FuzzPlainIsLinear holds the promise of plain.go: a file the tests call
// plain compiles in-process quickly, into trees no larger than its source
// (plus #Job's defaults for each job).
func FuzzPlainIsLinear(f *testing.F) {
	for _, seed := range []string{
		"name: \"web\"\ntask: {engine: \"exec\", cmd: [\"run\"]}\n",
		"jobs: [{name: \"a\", task: {engine: \"exec\", cmd: [\"x\"]}}, {name: \"b\", task: {engine: \"exec\", cmd: [\"y\"]}}]\n",
		"a: {b: {c: [[[1, 2], [3]], {d: null}]}}\n",
		"job \"web\" {\n  task {\n    engine = \"exec\"\n    cmd = [var.c, \"${var.c}-x\"]\n  }\n}\n",
		"variable \"c\" {\n  default = \"run\"\n}\njob \"a\" {}\njob \"b\" {}\n",
	} {
		f.Add([]byte(seed))
	}
	opts := lang.Options{Vars: map[string]string{"c": "run"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		for _, c := range []struct {
			plain func([]byte) bool
			parse lang.Parser
			name  string
		}{{plainCUE, cue.Parse, "fuzz.cue"}, {plainHCL, hcl.Parse, "fuzz.hcl"}} {
			if !c.plain(src) {
				continue
			}
			start := time.Now()
			trees, _ := c.parse(c.name, src, opts)
			if took := time.Since(start); took > 2*time.Second {
				t.Fatalf("%s: a plain file took %v: %q", c.name, took, src)
			}
			if n := size(trees); n > len(src)+maxJobDefaults*len(trees)+1 {
				t.Fatalf("%s: a plain file of %d bytes gave %d values: %q", c.name, len(src), n, src)
			}
		}
	})
}

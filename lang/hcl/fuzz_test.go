package hcl

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/json"
	"github.com/muster-dev/muster/validate"
)

// FuzzParse checks that Parse never panics, that every position it reports
// lies inside the file, and that every job it returns that validates
// survives a trip through its canonical JSON with the same hash.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../examples/*/*.hcl")
	corpus, _ := filepath.Glob("testdata/corpus/*.hcl")
	for _, p := range append(seeds, corpus[:min(len(corpus), 5)]...) {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	f.Add([]byte("job \"a\" {\n  task { engine = \"exec\", cmd = [\"x\"] }\n  count = 1e3\n}\n"))
	f.Add([]byte("variable \"v\" {\n  type = list(number)\n  default = [1, 2.5]\n}\nlocals {\n  x = [for n in var.v : n * 2]\n}\njob \"a\" {\n  labels = { \"k\" = \"${local.x[0]}\" }\n}\n"))
	f.Add([]byte("job \"\xff\" {\n  x = \"\xfe\"\n}\n"))
	f.Add([]byte("job \"a\" {\n  task {\n    input { source = \"s\" target = \"/t\" }\n    output { path = \"/o\", }\n  }\n}\n"))
	f.Add([]byte("job \"a\" { task {\n  engine = \"exec\" }\n  count = 1 priority = 2\n}\n"))
	f.Add([]byte("job \"api\" {\n  type = \"service\"\n  task {\n    engine = \"exec\"\n    cmd = [\"x\"]\n    port {\n      name = \"http\"\n      port = 8080\n    }\n    port \"admin\" {}\n  }\n  rollout {\n    health_check {\n      probe {\n        http {\n          path = \"/healthz\"\n          status = [200]\n        }\n        timeout = \"1s\"\n      }\n    }\n  }\n}\n"))
	f.Add([]byte("job \"clean\" {\n  task {\n    engine = \"exec\"\n    cmd    = [\"x\"]\n  }\n  schedule {\n    cron             = \"15 3 * * *\"\n    time_zone        = \"Europe/Berlin\"\n    prohibit_overlap = false\n  }\n}\n"))
	f.Add([]byte("job \"a\" {\n  schedule = { cron = \"@daily\" }\n  schedule \"x\" {\n    cron { }\n  }\n}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		sameAsSlow(t, "fuzz", src, lang.Options{})
		jobs, diags := Parse("fuzz.hcl", src, lang.Options{})
		plainHCL(t, src, diags)
		for _, d := range diags {
			if d.Message == "" {
				t.Fatalf("diagnostic without a message: %+v", d)
			}
			checkPos(t, src, d.Range, true)
		}
		for _, j := range jobs {
			if j.Kind != lang.Map {
				t.Fatalf("job is a %s", j.Kind)
			}
			walkRanges(t, src, j)
			roundTrip(t, j)
		}
	})
}

func checkPos(t *testing.T, src []byte, r lang.Range, zeroOK bool) {
	t.Helper()
	if r.IsZero() {
		if !zeroOK {
			t.Fatalf("value without a position")
		}
		return
	}
	if r.Filename != "fuzz.hcl" || r.Start.Line < 1 || r.Start.Column < 1 || r.Start.Byte < 0 || r.Start.Byte > len(src) || r.End.Byte > len(src) {
		t.Fatalf("range %+v outside the file of %d bytes", r, len(src))
	}
	if line := 1 + bytes.Count(src[:r.Start.Byte], []byte("\n")); line != r.Start.Line {
		t.Fatalf("range %+v: byte offset is on line %d", r, line)
	}
}

func walkRanges(t *testing.T, src []byte, v *lang.Value) {
	t.Helper()
	checkPos(t, src, v.Range, false)
	for _, e := range v.List {
		walkRanges(t, src, e)
	}
	for _, f := range v.Fields {
		checkPos(t, src, f.KeyRange, false)
		walkRanges(t, src, f.Value)
	}
}

// roundTrip checks that a job that validates compiles back from its
// canonical JSON to the same hash.
func roundTrip(t *testing.T, tree *lang.Value) {
	t.Helper()
	j, diags := validate.Job(tree)
	if j == nil {
		if !diags.HasErrors() {
			t.Fatal("validate returned no job and no error")
		}
		return
	}
	canonical := j.Canonical()
	back, diags := json.Parse("canonical.json", canonical, lang.Options{})
	if len(back) != 1 || diags.HasErrors() {
		t.Fatalf("canonical JSON does not parse: %v\n%s", diags, canonical)
	}
	j2, diags := validate.Job(back[0])
	if j2 == nil {
		t.Fatalf("canonical JSON does not validate: %v\n%s", diags, canonical)
	}
	if j2.Hash() != j.Hash() {
		t.Fatalf("hash drifted through canonical JSON:\n%s\n%s", canonical, j2.Canonical())
	}
}

// TestExamplesAgree compiles every HCL example and the JSON file beside it
// and checks that they give the same hashes (docs/spec.md section 1: the same job in
// every format hashes the same).
func TestExamplesAgree(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*/*.hcl")
	if len(files) == 0 {
		t.Skip("no HCL examples")
	}
	for _, p := range files {
		jsonPath := strings.TrimSuffix(p, ".hcl") + ".json"
		jsrc, err := os.ReadFile(jsonPath)
		if err != nil {
			continue
		}
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		hj, diags := Parse(p, src, lang.Options{})
		if diags.HasErrors() {
			t.Fatalf("%s: %v", p, diags)
		}
		jj, _ := json.Parse(jsonPath, jsrc, lang.Options{})
		if len(hj) != len(jj) {
			t.Fatalf("%s: %d jobs, %s has %d", p, len(hj), jsonPath, len(jj))
		}
		for i := range hj {
			a, da := validate.Job(hj[i])
			b, db := validate.Job(jj[i])
			if a == nil || b == nil {
				t.Fatalf("%s: %v %v", p, da, db)
			}
			if a.Hash() != b.Hash() {
				t.Errorf("%s: hash %s, %s gives %s\n%s\n%s", p, a.Hash(), jsonPath, b.Hash(), a.Canonical(), b.Canonical())
			}
		}
	}
}

// plainHCL checks that muster accepts exactly HCL: a file without errors
// parses with plain hclsyntax, and on a file hclsyntax accepts the layout
// explanations find nothing.
func plainHCL(t *testing.T, src []byte, diags lang.Diagnostics) {
	t.Helper()
	if _, ok := guard("fuzz.hcl", src); !ok || !utf8.Valid(src) {
		return // hclsyntax itself must not read it
	}
	_, hd := hclsyntax.ParseConfig(src, "fuzz.hcl", hcl.InitialPos)
	if hd.HasErrors() && !diags.HasErrors() {
		t.Fatalf("accepted a file that hclsyntax refuses: %v", hd)
	}
	if !hd.HasErrors() {
		for line, fx := range layoutFixes(src, lex(src)) {
			t.Fatalf("line %d of a file that hclsyntax accepts: %s", line, fx.msg)
		}
	}
}

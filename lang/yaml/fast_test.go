package yaml

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/lang"
)

// slowParse parses with yaml.v4 only.
func slowParse(filename string, src []byte) ([]*lang.Value, lang.Diagnostics) {
	useFast = false
	defer func() { useFast = true }()
	return Parse(filename, src, lang.Options{})
}

// sameAsSlow fails when the fast path takes src and gives another result
// than yaml.v4; it reports whether the fast path took it.
func sameAsSlow(t *testing.T, name string, src []byte) bool {
	t.Helper()
	jobs, diags := Parse("t.yaml", src, lang.Options{})
	_, fast := fastParse("t.yaml", src)
	sjobs, sdiags := slowParse("t.yaml", src)
	if !reflect.DeepEqual(jobs, sjobs) {
		t.Errorf("%s: the fast path gives other jobs for %q:\nfast %s\nslow %s", name, src, dumpAll(jobs), dumpAll(sjobs))
	}
	if !reflect.DeepEqual(diags, sdiags) {
		t.Errorf("%s: the fast path gives other diagnostics for %q:\nfast %v\nslow %v", name, src, diags, sdiags)
	}
	return fast
}

func dumpAll(vs []*lang.Value) string {
	var b strings.Builder
	for _, v := range vs {
		dump(&b, v, "")
	}
	return b.String()
}

func dump(b *strings.Builder, v *lang.Value, ind string) {
	if v == nil {
		b.WriteString(ind + "<nil>\n")
		return
	}
	fmt.Fprintf(b, "%s%s %d:%d-%d:%d", ind, v.Kind, v.Range.Start.Line, v.Range.Start.Column, v.Range.End.Line, v.Range.End.Column)
	switch v.Kind {
	case lang.Bool:
		fmt.Fprintf(b, " %v", v.Bool)
	case lang.Number:
		fmt.Fprintf(b, " %s", v.Number)
	case lang.String:
		fmt.Fprintf(b, " %q", v.Str)
	case lang.List:
		fmt.Fprintf(b, " nil=%v", v.List == nil)
	}
	b.WriteString("\n")
	for _, e := range v.List {
		dump(b, e, ind+"  ")
	}
	for _, f := range v.Fields {
		fmt.Fprintf(b, "%s  %q %d:%d-%d:%d =\n", ind, f.Key, f.KeyRange.Start.Line, f.KeyRange.Start.Column, f.KeyRange.End.Line, f.KeyRange.End.Column)
		dump(b, f.Value, ind+"    ")
	}
}

// fastSamples are files in the fast path's subset and just outside it.
var fastSamples = []string{
	"name: a\ntask:\n  engine: exec\n  cmd: [echo, hi]\n",
	"a:\nb: 1\n",
	"a:   # c\n  \nb:\n",
	"a:\n- x\n-\n- \n- y # c\nb:\n",
	"a: é\nb: [é, x]\nc: 'é'\nd: \"é\\u00e9\"\n",
	"a: {x: ,y: 1}\n",
	"a: [x, ]\n",
	"x: 2024\ny: 1e-5\nz: 12-3\nw: 2024-01-01\nv: 1_000\nu: +1\nt: 0x1F\ns: 0o17\nr: 017\nq: .5\np: 1.\n",
	"a: .inf\n",
	"a: -.Inf\n",
	"a: .nan\n",
	"a: 1e999\nb: 123456789012345678901234567890\n",
	"a: -0\nb: -0.0\nc: 0\nd: -1.5e3\n",
	"a: true\nb: True\nc: TRUE\nd: tRue\ne: yes\nf: no\ng: on\nh: ~\ni: null\nj: Null\nk: NULL\nl: nUll\nm: off\n",
	"a: 1h\nb: 30s\nc: 512Mi\nd: 1Gi\ne: 0.5\nf: 1d\ng: -foo\nh: -v\ni: 10m\n",
	"...\n",
	"a: 1\n...\nb: 2\n",
	"a: 1\n...\n---\nb: 2\n",
	"---\na: 1\n---\n---\nb: 2\n...\n",
	"# c\n---\na: 1\n",
	"--- # c\na: 1\n--- \nb: [1, {c: d}]\n",
	"a: 1\n  b: 2\n",
	"a: b\n  c\n",
	"- a\n- b\n",
	"a\n",
	"a: b: c\n",
	"a: 'it''s'\nb: \"q\\\"\\n\\t\\\\\"\nc: ''\nd: \"\"\n",
	"'a': 1\n\"b\": 2\n\"c\":3\n",
	"a:\n  - b: 1\n    c: 2\n  - d: 3\n  -\n    e: 4\n  - - x\n    - y\n",
	"a:\n  - b:\n    - x\n  - c\n",
	"a: b #c\nd: e#f\ng: 'h' #i\n",
	"a: 'h'#i\n",
	"a: [b, [c, d], {e: f, g: [h]}, 'i', \"j\"]\n",
	"a: {\"b\": 1, 'c': 2}\n",
	"a: [b c, d ]\n",
	"a: {b: c:d}\n",
	"a: nginx:1.25\nb: http://x/y#z\n",
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"a: |\n  x\n",
	"<<: {a: 1}\n",
	"a: {<<: {b: 1}}\n",
	"a:\tb\n",
	"a: b\r\n",
	"\ufeffa: b\n",
	"  a: 1\n  b: 2\n",
	"  a: 1\nb: 2\n",
	"a:\n  b:\n    c:\n      d: [[[1]]]\n",
	"a: []\nb: {}\nc: [[], {}]\n",
	"a: -\n",
	"a: - b\n",
	"a: ---\nb: ...\n",
	"a:\n  ---\n",
	"---x: 1\n",
	"a: \"\\x41\\u00e9\\U0001F600\"\n",
	"a: \"multi\n  line\"\n",
	"a: 😀\nb: [😀]\n",
	"? a\n: b\n",
	"%YAML 1.2\n---\na: 1\n",
	"a: 1\nb\n",
	"a: [1, 2\n",
	"a: 0.0\nb: 00\nc: 01.5\nd: 1.5.3\n",
	"a: b\n# c\n  # d\ne: f\n",
	"a: 1 # c\n---\n# only a comment\n",
	"---\n",
	"",
	"# nothing\n",
	"a: '#'\nb: \"a # b\"\n",
	"a: 1d\nb: -10s\nc: 5 minutes\nd: 3000000h\ne: 9999999999999\nf: 0xg\ng: +x\nh: .x\ni: 1e\nj: 0b1\nk: 0O7\nl: -0x1\nm: 1_0\nn: 1.5e\n",
	"a: 1d\nb: -10s\nc: 5 minutes\nd: 3000000h\ne: 9999999999999\ng: +x\nh: .x\n",
	"a: |\n  x\n  y\n\n  z\nb: 1\n",
	"a: |-\n  x\n    y\n\n\nb: >\n  x\n  y\n\n  z\n# c\nc: >-\n  x y  \n  z\n",
	"a:\n  - >-\n    x\n    y\n  - |\n    #x\n  - b\n",
	"a: |\n  x\n b: 1\n",
	"a: |\n\n  x\n",
	"a: |\n  x", "a: |+\n  x\n\n", "a: |2\n   x\n", "a: >\n  x\n    y\n  z\n", "a: |\nb: 1\n", "a: | # c\n  x\n", "a: |\n  x\n  \n  y\n", "a: |-\n  x\n",
	"a: 0x1\n", "a: 0o7\n", "a: 0b1\n", "a: 1_0\n", "a: +1\n", "a: 1.\n", "a: .5\n", "a: 00\n", "a: 1e\n", "a: +.inf\n", "a: .NaN\n", "a: -1e3\n", "a: 1E+2\n", "a: 1.5e-3\n", "a: +0\n", "a: 0.\n", "a: 1.5.3\n", "a: 12-3\n", "a: 2024-1-2\n", "a: 2024-01-02T10:00:00Z\n",
	"a: x y z\nb: x  y \n",
}

func TestFastSameAsSlow(t *testing.T) {
	for i, s := range fastSamples {
		sameAsSlow(t, fmt.Sprintf("sample %d", i), []byte(s))
	}
}

// TestFastCorpus runs both paths on the examples, the compiler's test
// cases and a generated corpus, and checks that the fast path takes nearly
// all of them.
func TestFastCorpus(t *testing.T) {
	type file struct {
		name string
		src  []byte
	}
	var examples, cases, generated []file
	paths, _ := filepath.Glob("../../examples/*/*.yaml")
	for _, p := range paths {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		examples = append(examples, file{p, src})
	}
	if len(examples) == 0 {
		t.Fatal("no examples")
	}
	archives, _ := filepath.Glob("../../compiler/testdata/*/*.txtar")
	for _, p := range archives {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".yaml") || strings.HasSuffix(f.Name, ".yml") {
				cases = append(cases, file{p + ":" + f.Name, f.Data})
			}
		}
	}
	for i, src := range jobgen.Sources(7, 1000, jobgen.YAML) {
		generated = append(generated, file{fmt.Sprintf("generated %d", i), src})
	}
	for _, set := range []struct {
		name  string
		files []file
		want  float64 // the share the fast path must take
	}{
		// examples/log-rotate uses a folded block scalar (>-).
		{"examples", examples, 0.85},
		{"compiler cases", cases, 0},
		{"generated", generated, 1},
	} {
		took := 0
		for _, f := range set.files {
			if sameAsSlow(t, f.name, f.src) {
				took++
			} else if set.want > 0 {
				t.Logf("%s: the fast path gave up", f.name)
			}
		}
		share := float64(took) / float64(len(set.files))
		t.Logf("%s: the fast path took %d of %d files (%.1f%%)", set.name, took, len(set.files), 100*share)
		if share < set.want {
			t.Errorf("%s: the fast path took only %.1f%%", set.name, 100*share)
		}
	}
}

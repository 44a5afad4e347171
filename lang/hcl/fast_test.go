package hcl

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/muster-dev/muster/lang"
)

// slowParse parses with hclsyntax only.
func slowParse(filename string, src []byte, opts lang.Options) ([]*lang.Value, lang.Diagnostics) {
	useFast = false
	defer func() { useFast = true }()
	return Parse(filename, src, opts)
}

// sameAsSlow fails when the fast path gives another result than hclsyntax.
func sameAsSlow(t *testing.T, name string, src []byte, opts lang.Options) {
	t.Helper()
	jobs, diags := Parse("t.hcl", src, opts)
	sjobs, sdiags := slowParse("t.hcl", src, opts)
	if !reflect.DeepEqual(jobs, sjobs) {
		t.Errorf("%s: the fast path gives other jobs:\nfast %s\nslow %s", name, dumpAll(jobs), dumpAll(sjobs))
		for i := range min(len(jobs), len(sjobs)) {
			diffRanges(t, jobs[i], sjobs[i], "")
		}
	}
	if !reflect.DeepEqual(diags, sdiags) {
		t.Errorf("%s: the fast path gives other diagnostics:\nfast %v\nslow %v", name, diags, sdiags)
	}
}

func dumpAll(vs []*lang.Value) string {
	s := ""
	for _, v := range vs {
		s += dump(v) + "\n"
	}
	return s
}

func diffRanges(t *testing.T, a, b *lang.Value, path string) {
	t.Helper()
	if a.Range != b.Range {
		t.Errorf("  %s: range %+v, slow %+v", path, a.Range, b.Range)
	}
	for i := range min(len(a.List), len(b.List)) {
		diffRanges(t, a.List[i], b.List[i], index(path, i))
	}
	for i := range min(len(a.Fields), len(b.Fields)) {
		if a.Fields[i].KeyRange != b.Fields[i].KeyRange {
			t.Errorf("  %s: key range %+v, slow %+v", join(path, a.Fields[i].Key), a.Fields[i].KeyRange, b.Fields[i].KeyRange)
		}
		diffRanges(t, a.Fields[i].Value, b.Fields[i].Value, join(path, a.Fields[i].Key))
	}
}

// fastSamples are files in the fast path's subset and just outside it.
var fastSamples = []string{
	"job \"a\" {\n  task {\n    engine = \"exec\" # trailing\n    cmd = [\n      \"a\", # one\n      \"b\",\n    ]\n  }\n}\n",
	"// header\njob a {}\njob \"b\"{\n}\n",
	"job \"a\" {\n  labels = {\n    a = \"1\",\n    \"b/c\": \"2\"\n\n    d = \"3\" # c\n  }\n  x = { a = { b = [1, 2.5, 1e3, true, false, null] } }\n}\n",
	"variable \"v\" {\n  type = string\n  default = \"x\"\n}\nlocals {\n  l = \"${var.v}-y\"\n  m = \"${var.v}\"\n  n = \"a\\n\\t\\\"\\\\b\"\n}\njob \"a\" {\n  x = local.l\n  y = local.m\n  z = local.n\n  w = \"${local.l}${var.v}\"\n}\n",
	"job \"a\" {\n  x = var.nope\n  y = \"${local.nope}\"\n  z = nope\n}\n",
	"job \"a\" {\n  x = \"é ü\"\n  y = \"z\"\n}\n",
	"job \"a\" {\n  x = 1 + 2\n  y = -1\n  z = upper(\"a\")\n}\n",
	"job \"a\" {\n  x = \"$${a}\"\n  y = \"%{if true}x%{endif}\"\n  z = <<EOT\nhi\nEOT\n}\n",
	"job \"a\" {\n  task { engine = \"exec\" }\n  count = 1\n  count = 2\n}\n",
	"job \"a\" {\n  x = { true = 1 }\n  y = [for a in [1] : a]\n  z = { for k in [\"a\"] : k => k }\n}\n",
	"job \"a\" {\n  x = var.a[0]\n  y = var.a.0\n  z = var.a[*].b\n}\n",
	"job \"a\" {\n  x = 1.5.3\n  y = 08\n  z = 1e\n}\n",
	"job \"a\" {\r\n  x = 1\r\n}\r\n",
	"job \"a\" {\n  x = \"unterminated\n}\n",
	"job \"a\" {\n  x = 1\n",
	"}\n",
	"job \"a\" {\n  /* block */ x = 1\n}\n",
	"job \"\\u00e9\" {\n}\n",
	"x = 1\njob \"a\" { }\nvariable \"b\" {\n  default = { a = [1] }\n}\n",
	"job \"a\" {\n  _x-y = 1\n  labels = { _a = 1, a-b = 2 }\n}\n",
	"job \"a\" {\n  x = {}\n  y = []\n  z = [[], [{}]]\n}\n",
	"job \"a\" {\n  a {b = 1}\n  c { d = 1, }\n  e {f = 1, }\n  g { h = 1 , i = 2,}\n  j { k = 1 l = 2}\n}\n",
	"job \"a\" {\n  a {b = 1 c = 2 }\n}\n",
	"job \"a\" {\n  a { b = 1,c = 2 }\n  d { e = { f = 1 } g = [1, 2] }\n  h { i = 1,, j = 2 }\n}\n",
	"job \"a\" {\n  a { b = 1 # c\n  }\n  d { e = 1 } # f\n  g { h { } }\n}\n",
	"job \"a\" {\n  x = upper(\"a\")\n  y = \"${lower(\"B\")}-${max(1, 2)}\"\n  z = concat([1], [\n    2, # two\n  ],)\n  w = uper(1)\n  v = upper(1, 2)\n  u = length()\n}\n",
	"job \"a\" {\n  x = upper (\"a\")\n  y = merge({}, {a = 1}...)\n  z = true()\n}\n",
	"job \"a\" {\n  x = \"\"\n  y = \"${var.a}${var.b}\"\n}\nvariable \"a\" {\n  default = 1\n}\nvariable \"b\" {\n  default = null\n}\n",
}

func TestFastSameAsSlow(t *testing.T) {
	for i, s := range fastSamples {
		sameAsSlow(t, "sample "+string(rune('a'+i)), []byte(s), lang.Options{})
	}
	files, _ := filepath.Glob("testdata/corpus/*.hcl")
	examples, _ := filepath.Glob("../../examples/*/*.hcl")
	for _, p := range append(files, examples...) {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sameAsSlow(t, p, src, lang.Options{})
		if filepath.Dir(p) == "testdata/corpus" {
			if _, ok := fastParse(p, src); !ok {
				t.Errorf("%s: the fast path gave up on a generated job file", p)
			}
		}
	}
}

package vars

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zclconf/go-cty/cty"

	"github.com/muster-dev/muster/lang"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPrecedence(t *testing.T) {
	dir := t.TempDir()
	f1 := write(t, dir, "a.hcl", "a = \"file1\"\nb = 2\nc = [1, \"x\"]\n")
	f2 := write(t, dir, "b.yaml", "b: 3\nd: {k: v}\n")
	f3 := write(t, dir, "c.json", `{"d": {"k": "w"}, "e": 12345678901234567890123}`)
	got, diags := Collect(lang.Options{
		Env:      map[string]string{"a": "env", "z": "zz"},
		VarFiles: []string{f1, f2, f3},
		Vars:     map[string]string{"b": "flag"},
	})
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	check := func(name, source string, want cty.Value) {
		t.Helper()
		v, ok := got[name]
		if !ok {
			t.Fatalf("%s missing", name)
		}
		if v.Source != source {
			t.Errorf("%s: source %q, want %q", name, v.Source, source)
		}
		if !v.Value.RawEquals(want) {
			t.Errorf("%s: value %#v, want %#v", name, v.Value, want)
		}
	}
	check("z", "MUSTER_VAR_z", cty.StringVal("zz"))
	check("a", f1, cty.StringVal("file1"))
	check("b", "--var", cty.StringVal("flag"))
	check("c", f1, cty.TupleVal([]cty.Value{cty.NumberIntVal(1), cty.StringVal("x")}))
	check("d", f3, cty.ObjectVal(map[string]cty.Value{"k": cty.StringVal("w")}))
	if !got["b"].FromText || got["b"].Text != "flag" || !got["z"].FromText {
		t.Errorf("text values: %+v %+v", got["b"], got["z"])
	}
	if got["a"].FromText || got["a"].Range.Start.Line != 1 || got["a"].Range.Filename != f1 {
		t.Errorf("file value: %+v", got["a"])
	}
	if s := got["e"].Value.AsBigFloat().Text('f', -1); s != "12345678901234567890123" {
		t.Errorf("big number: %s", s)
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, file, src string
		want            []string // substrings, one per diagnostic, "line:col: message"
	}{
		{"hcl var", "v.hcl", "a = 1\nb = var.x\n", []string{"v.hcl:2:5: error: Variables not allowed"}},
		{"hcl func", "v.hcl", "a = upper(\"x\")\n", []string{"v.hcl:1:5: error: Function calls not allowed"}},
		{"hcl block", "v.hcl", "a = 1\nblk {\n}\n", []string{`v.hcl:2:1: error: a var file holds only name = value attributes; the block "blk" is not allowed`}},
		{"hcl syntax", "v.hcl", "a = \n", []string{"v.hcl:1:5: error: Invalid expression"}},
		{"hcl dup", "v.hcl", "a = 1\na = 2\n", []string{"v.hcl:2:1: error: Attribute redefined"}},
		{"yaml not map", "v.yaml", "- a\n- b\n", []string{"v.yaml:1:1: error: a YAML var file must be a mapping"}},
		{"yaml dup", "v.yaml", "a: 1\na: 2\n", []string{`v.yaml:2:1: error: variable "a" is set twice (first at line 1)`}},
		{"yaml nan", "v.yaml", "a: .nan\n", []string{"v.yaml:1:4: error: .nan is not a finite number"}},
		{"yaml syntax", "v.yml", "a: [\n", []string{"v.yml:"}},
		{"json not object", "v.json", "[1]", []string{"v.json:1:1: error:"}},
		{"json syntax", "v.json", "{\"a\": }", []string{"v.json:1:7: error:"}},
		{"unknown ext", "v.txt", "a=1", []string{`unknown type ".txt"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := ParseFile(tt.file, []byte(tt.src))
			if len(diags) != len(tt.want) {
				t.Fatalf("got %d diagnostics, want %d:\n%v", len(diags), len(tt.want), diags)
			}
			for i, w := range tt.want {
				if !strings.Contains(diags[i].Error(), w) {
					t.Errorf("diagnostic %d = %q, want it to contain %q", i, diags[i].Error(), w)
				}
			}
		})
	}
}

func TestYAMLValues(t *testing.T) {
	vals, diags := ParseFile("v.yaml", []byte("n: 3\nf: 0.5\nbig: 123456789012345678901234567890\ns: \"3\"\nl: [a, b]\nm: {x: 1}\nnil: null\nb: true\nhex: 0x10\n"))
	if len(diags) != 0 {
		t.Fatal(diags)
	}
	m := map[string]cty.Value{}
	for _, v := range vals {
		m[v.Name] = v.Value
	}
	if !m["n"].RawEquals(cty.NumberIntVal(3)) && m["n"].Equals(cty.NumberIntVal(3)).False() {
		t.Errorf("n = %#v", m["n"])
	}
	if m["big"].AsBigFloat().Text('f', -1) != "123456789012345678901234567890" {
		t.Errorf("big = %v", m["big"].AsBigFloat())
	}
	if !m["s"].RawEquals(cty.StringVal("3")) || !m["b"].RawEquals(cty.True) || !m["nil"].IsNull() {
		t.Errorf("scalars: %#v %#v %#v", m["s"], m["b"], m["nil"])
	}
	if m["hex"].Equals(cty.NumberIntVal(16)).False() {
		t.Errorf("hex = %#v", m["hex"])
	}
	if !m["l"].Type().IsTupleType() || !m["m"].Type().IsObjectType() {
		t.Errorf("collections: %#v %#v", m["l"], m["m"])
	}
	if vals[0].Range.Start.Line != 1 || vals[1].NameRange.Start.Line != 2 {
		t.Errorf("ranges: %+v %+v", vals[0].Range, vals[1].NameRange)
	}
}

func TestMissingFile(t *testing.T) {
	_, diags := Collect(lang.Options{VarFiles: []string{"/nonexistent/x.hcl"}})
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "/nonexistent/x.hcl does not exist") {
		t.Fatalf("diags = %v", diags)
	}
}

func TestZeroOptions(t *testing.T) {
	got, diags := Collect(lang.Options{})
	if len(got) != 0 || len(diags) != 0 {
		t.Fatal(got, diags)
	}
}

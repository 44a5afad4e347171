package validate_test

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

func TestSecretReferences(t *testing.T) {
	job := func(ns, env, src string) string {
		return `{"name":"a","namespace":"` + ns + `","task":{"engine":"exec","cmd":["x"],"env":{"DB":"` + env +
			`"},"inputs":[{"source":"` + src + `","target":"/run/key"}]}}`
	}
	tests := []struct {
		name, src string
		want      string // "path: message fragment"; "" for a valid job
	}{
		{"env and input of its own namespace", job("shop", "secret:shop/db_password", "secret:shop/tls-key"), ""},
		{"a value that only mentions secret", job("shop", "my secret:shop", "https://h/a"), ""},
		{"env without namespace and name", job("shop", "secret:", "https://h/a"), `task.env.DB: "secret:" is not a secret reference`},
		{"env without name", job("shop", "secret:shop", "https://h/a"), `task.env.DB: "secret:shop" is not a secret reference`},
		{"env with an empty name", job("shop", "secret:shop/", "https://h/a"), `task.env.DB: "secret:shop/" is not a secret reference`},
		{"env with a bad name", job("shop", "secret:shop/a.b", "https://h/a"), `task.env.DB: "secret:shop/a.b" is not a secret reference`},
		{"env of another namespace", job("shop", "secret:bank/db", "https://h/a"),
			`task.env.DB: task.env.DB refers to a secret of the namespace "bank": a job may use only secrets of its own namespace (shop)`},
		{"input malformed", job("shop", "x", "secret:/db"), `task.inputs[0].source: "secret:/db" is not a secret reference`},
		{"input of another namespace", job("shop", "x", "secret:default/db"),
			`task.inputs[0].source: task.inputs[0].source refers to a secret of the namespace "default"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, diags := compile(t, tt.src)
			if tt.want == "" {
				if j == nil {
					t.Fatalf("want a valid job, got:\n%v", diags)
				}
				return
			}
			if j != nil || len(diags) != 1 {
				t.Fatalf("want one error, got %d:\n%v", len(diags), diags)
			}
			if got := diags[0].Path + ": " + diags[0].Message; !strings.Contains(got, tt.want) {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSecretReferenceIsCanonical checks that the canonical spec keeps the
// reference text, so its hash does not depend on the secret's value.
func TestSecretReferenceIsCanonical(t *testing.T) {
	j, diags := compile(t, `{"name":"a","task":{"engine":"exec","cmd":["x"],"env":{"DB":"secret:default/db"},"inputs":[{"source":"secret:default/key","target":"/k"}]}}`)
	if j == nil {
		t.Fatal(diags)
	}
	b := j.Canonical()
	for _, want := range []string{`"DB":"secret:default/db"`, `"source":"secret:default/key"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("canonical %s lacks %s", b, want)
		}
	}
	refs := j.Task.SecretRefs()
	if len(refs) != 2 || refs[0].String() != "default/db" || refs[1].String() != "default/key" {
		t.Errorf("SecretRefs = %v", refs)
	}
}

// TestSecretReferenceInEveryFormat: the CUE definition and the other
// formats take secret references as sources and env values alike.
func TestSecretReferenceInEveryFormat(t *testing.T) {
	for _, c := range []struct {
		file string
		f    compiler.Format
		src  string
	}{
		{"s.cue", compiler.CUE, `name: "s", task: {engine: "exec", cmd: ["x"], env: DB: "secret:default/db", inputs: [{source: "secret:default/k", target: "/k"}]}`},
		{"s.yaml", compiler.YAML, "name: s\ntask: {engine: exec, cmd: [x], env: {DB: \"secret:default/db\"}, inputs: [{source: \"secret:default/k\", target: /k}]}\n"},
		{"s.hcl", compiler.HCL, "job \"s\" {\n  task {\n    engine = \"exec\"\n    cmd = [\"x\"]\n    env = { DB = \"secret:default/db\" }\n    input {\n      source = \"secret:default/k\"\n      target = \"/k\"\n    }\n  }\n}\n"},
	} {
		res := compiler.Compile(c.file, []byte(c.src), c.f, lang.Options{})
		if res.Diags.HasErrors() || len(res.Jobs) != 1 {
			t.Errorf("%s: %v", c.file, res.Diags)
			continue
		}
		if refs := res.Jobs[0].Spec.Task.SecretRefs(); len(refs) != 2 {
			t.Errorf("%s: references %v", c.file, refs)
		}
	}
}

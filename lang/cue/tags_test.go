package cue

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

// TestTagsOnReferencedFields injects variables into tagged fields that the
// file refers to elsewhere, with and without a package clause: a hidden
// field, a regular one, a nested one, one with a default, and tags typed
// int and bool. Every reference must see the injected value, as with
// `cue export -t` (TestSameAsCueExport runs the cue command itself).
func TestTagsOnReferencedFields(t *testing.T) {
	task := "task: {engine: \"exec\", cmd: [\"run\"]}\n"
	cases := []struct {
		name string
		src  string
		vars map[string]string
		want map[string]string // path: Describe()
	}{{
		name: "hidden",
		src:  "_region: string @tag(region)\nname: \"web\"\nlabels: region: _region\n" + task,
		vars: map[string]string{"region": "eu-central"},
		want: map[string]string{"labels.region": `string "eu-central"`},
	}, {
		name: "hidden, referenced before it is declared",
		src:  "name: \"web\"\nlabels: region: _region\n_region: string @tag(region)\n" + task,
		vars: map[string]string{"region": "eu-central"},
		want: map[string]string{"labels.region": `string "eu-central"`},
	}, {
		name: "regular",
		src:  "name: \"web\"\ndescription: string @tag(d)\nmeta: d: description\n" + task,
		vars: map[string]string{"d": "hello"},
		want: map[string]string{"description": `string "hello"`, "meta.d": `string "hello"`},
	}, {
		name: "nested",
		src:  "name: \"web\"\ntask: {\n\tengine: \"exec\"\n\t_prog: string @tag(prog)\n\tcmd: [_prog]\n\tenv: PROG: _prog\n}\n",
		vars: map[string]string{"prog": "/bin/run"},
		want: map[string]string{"task.env.PROG": `string "/bin/run"`},
	}, {
		name: "nested, referenced from outside",
		src:  "name: \"web\"\ntask: {\n\tengine: \"exec\"\n\tcmd: [\"run\"]\n\tenv: REGION: string @tag(region)\n}\nlabels: region: task.env.REGION\n",
		vars: map[string]string{"region": "eu"},
		want: map[string]string{"labels.region": `string "eu"`, "task.env.REGION": `string "eu"`},
	}, {
		name: "default kept without a variable",
		src:  "_tag: *\"1.27\" | string @tag(tag)\nname: \"web\"\ndescription: \"nginx \\(_tag)\"\n" + task,
		want: map[string]string{"description": `string "nginx 1.27"`},
	}, {
		name: "default replaced by the variable",
		src:  "_tag: *\"1.27\" | string @tag(tag)\nname: \"web\"\ndescription: \"nginx \\(_tag)\"\n" + task,
		vars: map[string]string{"tag": "1.26"},
		want: map[string]string{"description": `string "nginx 1.26"`},
	}, {
		name: "type=int",
		src:  "_n: *1 | int @tag(n,type=int)\nname: \"web\"\ncount: _n\npriority: _n * 10\n" + task,
		vars: map[string]string{"n": "4"},
		want: map[string]string{"count": "number 4", "priority": "number 40"},
	}, {
		name: "type=bool",
		src:  "_p: bool @tag(p,type=bool)\nname: \"web\"\nrollout: auto_promote: _p\nrollout: no_auto_rollback: !_p\n" + task,
		vars: map[string]string{"p": "true"},
		want: map[string]string{"rollout.auto_promote": "bool true", "rollout.no_auto_rollback": "bool false"},
	}, {
		name: "two tags on one field",
		src:  "_r: string @tag(a) @tag(b)\nname: \"web\"\nlabels: r: _r\n" + task,
		vars: map[string]string{"a": "x", "b": "x"},
		want: map[string]string{"labels.r": `string "x"`},
	}, {
		name: "tagged field inside a definition used by the job",
		src:  "#Image: {_v: string @tag(img), out: \"web:\\(_v)\"}\nname: \"web\"\ntask: {engine: \"docker\", image: #Image.out}\n",
		vars: map[string]string{"img": "1"},
		want: map[string]string{"task.image": `string "web:1"`},
	}}
	for _, c := range cases {
		for _, pkg := range []string{"", "package jobs\n\n"} {
			name := c.name
			if pkg != "" {
				name += ", with a package clause"
			}
			t.Run(name, func(t *testing.T) {
				tree, _ := compile(t, pkg+c.src, lang.Options{Vars: c.vars})
				for path, want := range c.want {
					if got := lookup(tree, path).Describe(); got != want {
						t.Errorf("%s = %s, want %s", path, got, want)
					}
				}
			})
		}
	}
}

// TestTagValues reads variables as cue -t reads them: numbers as written,
// booleans in Go's spellings, strings verbatim.
func TestTagValues(t *testing.T) {
	cases := []struct {
		decl, value string
		want        string // Describe of count, or the error
	}{
		{"*1 | int @tag(n,type=int)", "3", "number 3"},
		{"*1 | int @tag(n,type=int)", "0x10", "number 16"},
		{"*1 | int @tag(n,type=int)", "1_000", "number 1000"},
		{"*1 | int @tag(n,type=int)", " 3", `variable n (--var): " 3" is not a number`},
		{"*1 | int @tag(n,type=int)", "2.5", `variable n (--var): "2.5" is not a whole number (the tag says type=int)`},
		{"*1 | number @tag(n,type=number)", "2.0", "number 2.0"},
	}
	for _, c := range cases {
		src := "name: \"web\"\ncount: " + c.decl + "\ntask: {engine: \"exec\", cmd: [\"run\"]}\n"
		jobs, diags := Parse("in.cue", []byte(src), lang.Options{Vars: map[string]string{"n": c.value}})
		got := ""
		if len(jobs) == 1 && len(diags) == 0 {
			got = lookup(jobs[0], "count").Describe()
		} else {
			got = strings.TrimSpace(diagLines(diags))
		}
		if !strings.Contains(got, c.want) {
			t.Errorf("%s with %q: got %s, want %s", c.decl, c.value, got, c.want)
		}
	}
	for value, want := range map[string]string{"true": "bool true", " F ": "bool false", "1": "bool true", "yes": `"yes" is not a bool`} {
		src := "name: \"web\"\nrollout: auto_promote: bool @tag(p,type=bool)\ntask: {engine: \"exec\", cmd: [\"run\"]}\n"
		jobs, diags := Parse("in.cue", []byte(src), lang.Options{Vars: map[string]string{"p": value}})
		got := strings.TrimSpace(diagLines(diags))
		if len(jobs) == 1 && len(diags) == 0 {
			got = lookup(jobs[0], "rollout.auto_promote").Describe()
		}
		if !strings.Contains(got, want) {
			t.Errorf("type=bool with %q: got %s, want %s", value, got, want)
		}
	}
}

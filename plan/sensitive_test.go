package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
)

// The secrets of these tests: no output may hold them.
var secrets = []string{"hunter2", "hunter3", "t0k3n", "s3cr3t", "KEYPART"}

func checkHidden(t *testing.T, what, out string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("%s shows %q:\n%s", what, s, out)
		}
	}
}

func TestDiffHiding(t *testing.T) {
	const old = `{"selector":{"match_expressions":["a=1","zone!=s3cr3t"]},"task":{"cmd":["run","hunter2"],` +
		`"env":{"DB_PASSWORD":"hunter2","SAME":"hunter2","MODE":"a"},"inputs":[{"source":"https://x.test/?t0k3n","target":"/data"}]},"meta":{"KEYPART":"1"}}`
	const new = `{"selector":{"match_expressions":["a=1","zone!=s3cr3t-2"]},"task":{"cmd":["run","hunter3","-v"],` +
		`"env":{"DB_PASSWORD":"hunter3","SAME":"hunter2","MODE":"b","ADDED":"hunter3"},"inputs":[{"source":"https://x.test/?t0k3n2","target":"/data"},{"source":"https://x.test/?t0k3n3","target":"/more"}]},"meta":{"KEYPART":"2"}}`
	oldHidden := []string{"task.env.DB_PASSWORD", "task.env.SAME", "task.cmd[1]", `task.inputs["/data"].source`, "selector.match_expressions[1]", "meta"}
	newHidden := []string{"task.env.DB_PASSWORD", "task.env.SAME", "task.env.ADDED", "task.cmd[1]", `task.inputs["/data"].source`, `task.inputs["/more"].source`, "selector.match_expressions[1]", "meta"}
	got, err := DiffHiding([]byte(old), []byte(new), oldHidden, newHidden)
	if err != nil {
		t.Fatal(err)
	}
	const m = "(sensitive)"
	want := []Change{
		{Path: "meta", Op: Modify, Old: m, New: m, OldSensitive: true, NewSensitive: true},
		{Path: "selector.match_expressions", Op: Remove, Old: m, OldSensitive: true},
		{Path: "selector.match_expressions", Op: Add, New: m, NewSensitive: true},
		{Path: "task.cmd", Op: Modify, Old: []any{"run", m}, New: []any{"run", m, "-v"}, OldSensitive: true, NewSensitive: true},
		{Path: "task.env.ADDED", Op: Add, New: m, NewSensitive: true},
		{Path: "task.env.DB_PASSWORD", Op: Modify, Old: m, New: m, OldSensitive: true, NewSensitive: true},
		{Path: "task.env.MODE", Op: Modify, Old: "a", New: "b"},
		{Path: `task.inputs["/data"].source`, Op: Modify, Old: m, New: m, OldSensitive: true, NewSensitive: true},
		{Path: `task.inputs["/more"]`, Op: Add, New: map[string]any{"source": m, "target": "/more"}, NewSensitive: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DiffHiding =\n%#v\nwant\n%#v", got, want)
	}
	var text bytes.Buffer
	WriteDiff(&text, got)
	checkHidden(t, "the diff", text.String())
	for _, line := range []string{
		"~ task.env.DB_PASSWORD: (sensitive) -> (sensitive)\n",
		"+ task.env.ADDED: (sensitive)\n",
		`~ task.cmd: ["run","(sensitive)"] -> ["run","(sensitive)","-v"]` + "\n",
		"~ meta: (sensitive) -> (sensitive)\n",
		"~ task.env.MODE: \"a\" -> \"b\"\n",
	} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("the diff lacks %q:\n%s", line, text.String())
		}
	}
	b, _ := json.Marshal(got)
	checkHidden(t, "the JSON diff", string(b))
	if !strings.Contains(string(b), `{"path":"task.env.DB_PASSWORD","op":"change","old":"(sensitive)","new":"(sensitive)","old_sensitive":true,"new_sensitive":true}`) {
		t.Errorf("the JSON diff lacks the marked change: %s", b)
	}

	// A value sensitive on one side only shows on the other; an unchanged
	// one is no change at all, whatever its sensitivity.
	got, _ = DiffHiding([]byte(`{"a":"hunter2","b":"x","c":"y"}`), []byte(`{"a":"plain","b":"x","c":"z"}`), []string{"a", "b"}, []string{"c"})
	want = []Change{
		{Path: "a", Op: Modify, Old: m, New: "plain", OldSensitive: true},
		{Path: "c", Op: Modify, Old: "y", New: m, NewSensitive: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("one-sided DiffHiding = %#v", got)
	}
	// Diff without paths is unchanged.
	if got, _ := Diff([]byte(`{"a":"hunter2"}`), []byte(`{"a":"x"}`)); !reflect.DeepEqual(got, []Change{{Path: "a", Op: Modify, Old: "hunter2", New: "x"}}) {
		t.Errorf("Diff = %#v", got)
	}
}

// sensState is a SensitiveState: the sensitive paths recorded by hash.
type sensState struct {
	memState
	paths map[string][]string
}

func (s sensState) SensitivePaths(_ context.Context, hash string) ([]string, error) {
	return s.paths[hash], nil
}

func TestMakeHides(t *testing.T) {
	const src = `
name: web
selector: {match_expressions: ["zone!=SECRET"]}
task: {engine: exec, cmd: [run, --pw, "PW"], env: {DB_PASSWORD: "PW", MODE: a}}
`
	oldJob := job(t, strings.NewReplacer("SECRET", "s3cr3t", "PW", "hunter2").Replace(src))
	newJob := job(t, strings.NewReplacer("SECRET", "s3cr3t", "PW", "hunter3", "MODE: a", "MODE: b").Replace(src))
	paths := []string{"task.env.DB_PASSWORD", "task.cmd[2]", "selector.match_expressions[0]"}
	st := sensState{memState{"default/web": stored(oldJob, 1, 3)}, map[string][]string{oldJob.Hash(): paths}}
	nodes := []Node{{ID: "n1", Labels: map[string]string{}}}

	// The new side's paths are given; the old side's are read from state.
	p, err := MakeDesired(context.Background(), st, []Desired{{Job: newJob, Sensitive: paths[:2]}}, nodes, "live")
	if err != nil {
		t.Fatal(err)
	}
	jp := p.Jobs[0]
	if want := []string{"task.cmd[2]", "task.env.DB_PASSWORD"}; !reflect.DeepEqual(jp.SensitivePaths, want) {
		t.Errorf("SensitivePaths = %q, want %q", jp.SensitivePaths, want)
	}
	if len(jp.Warnings) == 0 {
		t.Fatal("want the warning about a node without the zone label")
	}
	var text bytes.Buffer
	WriteText(&text, p)
	// The selector expression is not among the paths given for the new
	// side, so the warning quoting it may show it; the rest is hidden.
	if !strings.Contains(text.String(), "~ task.env.DB_PASSWORD: (sensitive) -> (sensitive)") {
		t.Errorf("plan text:\n%s", text.String())
	}
	if strings.Contains(text.String(), "hunter") {
		t.Errorf("plan text shows a sensitive value:\n%s", text.String())
	}

	// Paths recorded for the new hash count too (a rollback, a re-apply):
	// once sensitive, always hidden, warnings included.
	st.paths[newJob.Hash()] = []string{"selector.match_expressions[0]"}
	p, err = MakeDesired(context.Background(), st, []Desired{{Job: newJob, Sensitive: paths[:2]}}, nodes, "live")
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	WriteText(&text, p)
	checkHidden(t, "plan text", text.String())
	if !strings.Contains(text.String(), `warning: selector expression "(sensitive)" also matches`) {
		t.Errorf("the warning does not show the hidden expression:\n%s", text.String())
	}
	hidden, err := p.Hidden()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(hidden)
	checkHidden(t, "plan JSON", string(b))
	if !strings.Contains(string(b), `"sensitive_paths":["selector.match_expressions[0]","task.cmd[2]","task.env.DB_PASSWORD"]`) {
		t.Errorf("plan JSON lacks sensitive_paths: %s", b)
	}
	// The plan itself keeps the spec to apply, exactly.
	if !bytes.Equal(p.Jobs[0].Spec, newJob.Canonical()) || schema.HashBytes(p.Jobs[0].Spec) != p.Jobs[0].ToHash {
		t.Error("Hidden changed the plan it copied")
	}
}

package sensitive

import (
	"reflect"
	"strings"
	"testing"
)

const spec = `{"labels":{"app.kubernetes.io/name":"web","team":"a"},"selector":{"match_expressions":["a=1","token=s3cr3t"]},` +
	`"task":{"cmd":["run","--pw","hunter2"],"env":{"DB_PASSWORD":"hunter2","MODE":"x"},` +
	`"inputs":[{"source":"https://x.test/data?token=t0k3n%2F","target":"/data"},{"source":"file:///a","target":"/z"}],` +
	`"resources":{"cpus":0.5,"memory":"1G"}}}`

func TestPaths(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Member("", "task"), "task"},
		{Member("task", "env"), "task.env"},
		{Member("labels", "app.kubernetes.io/name"), `labels["app.kubernetes.io/name"]`},
		{Member("labels", ""), `labels[""]`},
		{Index("task.cmd", 2), "task.cmd[2]"},
		{Element("task.inputs", "/data"), `task.inputs["/data"]`},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	paths := []string{"task.env.A", `task.inputs["/data"].source`, "task.cmd[2]"}
	for _, c := range []struct {
		path          string
		covers, holds bool
	}{
		{"task.env.A", true, true},
		{"task.env.AB", false, false},
		{"task.env", false, true},
		{"task", false, true},
		{"", false, true},
		{"task.cmd[2]", true, true},
		{"task.cmd[20]", false, false},
		{"task.cmd", false, true},
		{`task.inputs["/data"]`, false, true},
		{`task.inputs["/data"].target`, false, false},
		{`task.inputs["/data"].source`, true, true},
		{"labels", false, false},
	} {
		if got := Covers(paths, c.path); got != c.covers {
			t.Errorf("Covers(%q) = %v", c.path, got)
		}
		if got := Holds(paths, c.path); got != c.holds {
			t.Errorf("Holds(%q) = %v", c.path, got)
		}
	}
	got := Union([]string{"task.env.A", "task.cmd[1]"}, []string{"task.env", "task.cmd[1]", "labels.x"}, nil)
	if want := []string{"labels.x", "task.cmd[1]", "task.env"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Union = %q, want %q", got, want)
	}
	if got := Union(); got == nil || len(got) != 0 {
		t.Errorf("Union() = %#v, want an empty list", got)
	}
}

func TestHide(t *testing.T) {
	paths := []string{"task.env.DB_PASSWORD", "task.cmd[2]", `task.inputs["/data"].source`, "selector.match_expressions[1]"}
	b, hidden, err := Hide([]byte(spec), paths)
	if err != nil || !hidden {
		t.Fatalf("Hide = %s, %v, %v", b, hidden, err)
	}
	got := string(b)
	for _, secret := range []string{"hunter2", "t0k3n", "s3cr3t"} {
		if strings.Contains(got, secret) {
			t.Errorf("Hide left %q: %s", secret, got)
		}
	}
	for _, kept := range []string{`"DB_PASSWORD":"(sensitive)"`, `"cmd":["run","--pw","(sensitive)"]`, `"source":"(sensitive)","target":"/data"`,
		`"file:///a"`, `"a=1","(sensitive)"`, `"cpus":0.5`, `"MODE":"x"`} {
		if !strings.Contains(got, kept) {
			t.Errorf("Hide lost %s: %s", kept, got)
		}
	}
	// A path on a map hides its keys too.
	b, _, _ = Hide([]byte(spec), []string{"task.env"})
	if strings.Contains(string(b), "DB_PASSWORD") || !strings.Contains(string(b), `"env":"(sensitive)"`) {
		t.Errorf("Hide of a map = %s", b)
	}
	// Nothing to hide: the same bytes.
	if b, hidden, err := Hide([]byte(spec), nil); err != nil || hidden || string(b) != spec {
		t.Errorf("Hide without paths = %s, %v, %v", b, hidden, err)
	}
	if b, hidden, err := Hide([]byte(spec), []string{"task.env.NOPE"}); err != nil || hidden || string(b) != spec {
		t.Errorf("Hide of a missing path = %s, %v, %v", b, hidden, err)
	}
	if _, _, err := Hide([]byte("{"), paths); err == nil {
		t.Error("Hide of bad JSON: no error")
	}
}

func TestValues(t *testing.T) {
	got, err := Values([]byte(spec), []string{"task.env.DB_PASSWORD", "task.cmd[2]", `task.inputs["/data"].source`, "task.resources.cpus", "labels"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"https://x.test/data?token=t0k3n%2F", "app.kubernetes.io/name", "hunter2", "team", "0.5", "web", "a"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Values = %q, want %q", got, want)
	}
	if got, err := Values([]byte(spec), nil); err != nil || got != nil {
		t.Errorf("Values without paths = %q, %v", got, err)
	}
}

func TestMissing(t *testing.T) {
	got, err := Missing([]byte(spec), []string{"task.env.DB_PASSWORD", "task.env.NOPE", `task.inputs["/z"].source`, `task.inputs["/y"]`, "task.cmd[3]", "task"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"task.env.NOPE", `task.inputs["/y"]`, "task.cmd[3]"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Missing = %q, want %q", got, want)
	}
	if err := Check([]byte(spec), []string{"task.env.NOPE"}); err == nil || !strings.Contains(err.Error(), "task.env.NOPE") {
		t.Errorf("Check = %v", err)
	}
	if err := Check([]byte(spec), []string{"task.env.MODE"}); err != nil {
		t.Errorf("Check of a good path = %v", err)
	}
}

func TestRedact(t *testing.T) {
	values := []string{"hunter2", "pa ss/wörd\"", "abc", "https://x.test/data?token=t0k3n"}
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"nothing to hide", "nothing to hide"},
		{"exec: starting hunter2: not found", "exec: starting (sensitive): not found"},
		{`program "hunter2" not found`, `program "(sensitive)" not found`},
		{`env "pa ss/wörd\""`, `env "(sensitive)"`},
		{"GET https://x.test/data?token=t0k3n: 404", "GET (sensitive): 404"},
		{"url: token=t0k3n%2Fx and q=pa+ss%2Fw%C3%B6rd%22", "url: token=t0k3n%2Fx and q=(sensitive)"},
		{"path /pa%20ss%2Fw%C3%B6rd%22", "path /(sensitive)"},
		// Short values hide only where quoted.
		{`the abc of "abc" and 'abc'`, `the abc of "(sensitive)" and '(sensitive)'`},
	} {
		if got := Redact(c.in, values); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if got := Redact("hunter2", nil); got != "hunter2" {
		t.Errorf("Redact without values = %q", got)
	}
}

package compiler

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

// The golden files record what the compiler says, and MUSTER_UPDATE=1
// rewrites them. The tests of this file state, independently of any golden
// file, behaviour that docs/spec.md and the package contracts require, so that a
// regeneration cannot quietly accept a regression.

// contractCase is one input and what must hold of its result.
type contractCase struct {
	name   string
	format Format
	src    string
	opts   lang.Options
}

func (c contractCase) compile(t *testing.T) Result {
	t.Helper()
	requireParser(t, c.format)
	return compileSafelyWith(t, "in."+string(c.format), []byte(c.src), c.format, c.opts)
}

// TestNoJobFromAnInvalidJob: "a file with errors still yields its good
// jobs" (lang.Parser), and Result.Jobs holds the jobs that passed. A job
// whose own block or value has an error is not good, even when the frontend
// could guess what was meant.
func TestNoJobFromAnInvalidJob(t *testing.T) {
	cases := []contractCase{
		{name: "hcl attribute set twice", format: HCL, src: `job "web" {
  priority = 10
  priority = 20
  task {
    engine = "exec"
    cmd    = ["run"]
  }
}
`},
		{name: "hcl second task block", format: HCL, src: `job "web" {
  task {
    engine = "exec"
    cmd    = ["run"]
  }
  task {
    engine = "exec"
    cmd    = ["run", "again"]
  }
}
`},
		{name: "hcl name attribute", format: HCL, src: `job "web" {
  name = "api"
  task {
    engine = "exec"
    cmd    = ["run"]
  }
}
`},
		{name: "hcl block written as an attribute", format: HCL, src: `job "web" {
  task = {
    engine = "exec"
    cmd    = ["run"]
  }
}
`},
		{name: "hcl list of objects as an attribute", format: HCL, src: `job "api" {
  task {
    engine = "docker"
    image  = "api:1"
    inputs = [{ source = "https://example.com/a", target = "/in/a" }]
  }
}
`},
		{name: "cue tag value of the wrong type", format: CUE, src: `name: "web"
type: "service"
count: int @tag(replicas,type=int)
task: {
	engine: "docker"
	image:  "web:1"
}
`, opts: lang.Options{Vars: map[string]string{"replicas": "three"}}},
		{name: "cue tag inside a list", format: CUE, src: `name: "web"
task: {
	engine: "exec"
	cmd: [{x: "run" @tag(cmd)}.x]
}
`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.compile(t)
			if !res.Diags.HasErrors() {
				t.Fatalf("want an error, got none")
			}
			for _, j := range res.Jobs {
				t.Errorf("job %s/%s compiled although its own definition has an error:\n%s",
					j.Spec.Namespace, j.Spec.Name, res.Diags.Error())
			}
		})
	}
}

// TestSensitiveValuesStayHidden: the value of a sensitive HCL variable must
// not appear in any message, whoever reports it (the frontend or the
// validator).
func TestSensitiveValuesStayHidden(t *testing.T) {
	requireParser(t, HCL)
	const secret = "s3cr3t value!"
	src := `variable "token" {
  type      = string
  sensitive = true
}

job "web" {
  labels = { token = var.token }
  task {
    engine = "docker"
    image  = "web:1"
    env    = { TOKEN = var.token }
    workdir = var.token
  }
  selector {
    match_expressions = ["token=${var.token}"]
  }
}
`
	res := compileSafelyWith(t, "in.hcl", []byte(src), HCL, lang.Options{Vars: map[string]string{"token": secret}})
	if !res.Diags.HasErrors() {
		t.Fatal("want errors, got none")
	}
	for _, d := range res.Diags {
		if strings.Contains(d.Message, secret) || strings.Contains(d.Message, "s3cr3t") {
			t.Errorf("a message shows the sensitive value: %s", d.Error())
		}
	}
}

// TestMessageWording pins messages whose wording the golden files once got
// wrong, as the diagnostic the user should see.
func TestMessageWording(t *testing.T) {
	cases := []struct {
		contractCase
		want    string // one diagnostic, in Diagnostic.Error form
		notWant string // a substring no diagnostic may hold
	}{
		{
			contractCase: contractCase{name: "article before ops", format: YAML, src: "name: a\ntype: ops\ncount: 2\ntask: {engine: exec, cmd: [run]}\n"},
			want:         "in.yaml:3:1: error: count applies only to batch and service jobs; an ops job runs once on every matching node (count)",
		},
		{
			contractCase: contractCase{name: "top-level field inside task", format: YAML, src: "name: a\ntask:\n  engine: exec\n  cmd: [run]\n  type: service\n"},
			notWant:      "it belongs in type",
		},
		{
			contractCase: contractCase{name: "top-level field inside rollout", format: YAML, src: "name: a\ntask: {engine: exec, cmd: [run]}\nrollout:\n  timeouts: {total: 1h}\n"},
			notWant:      "it belongs in timeouts",
		},
		{
			contractCase: contractCase{name: "non-string cmd[0] reported once", format: YAML, src: "name: a\ntask: {engine: exec, cmd: [true]}\n"},
			want:         "in.yaml:2:28: error: task.cmd[0] must be a string, not bool true (task.cmd[0])",
			notWant:      "must not be empty",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.compile(t)
			if c.want != "" {
				found := false
				for _, d := range res.Diags {
					found = found || d.Error() == c.want
				}
				if !found {
					t.Errorf("want the diagnostic\n  %s\ngot:\n%s", c.want, res.Diags.Error())
				}
			}
			if c.notWant != "" {
				for _, d := range res.Diags {
					if strings.Contains(d.Error(), c.notWant) {
						t.Errorf("unclear diagnostic (holds %q): %s", c.notWant, d.Error())
					}
				}
			}
		})
	}
}

// TestTooLargeMessage: a file just over the limit must not be described as
// being of the limit's size ("the file is 4 MiB; job files are limited to 4
// MiB" reads as a contradiction).
func TestTooLargeMessage(t *testing.T) {
	src := make([]byte, MaxFileSize+1)
	for i := range src {
		src[i] = '#'
	}
	res := Compile("big.yaml", src, YAML, lang.Options{})
	if len(res.Diags) != 1 {
		t.Fatalf("want one diagnostic, got %v", res.Diags)
	}
	msg := res.Diags[0].Message
	if strings.Contains(msg, "is 4 MiB") {
		t.Errorf("unclear message for a file of %d bytes: %s", len(src), msg)
	}
}

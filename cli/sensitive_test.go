package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// secretRE matches the sensitive values of the tests below in any case.
var secretRE = regexp.MustCompile(`(?i)hunter2|t0k3n`)

// noSecret fails when a command's output shows a sensitive value.
func noSecret(t *testing.T, r result) {
	t.Helper()
	if secretRE.MatchString(r.stdout) || secretRE.MatchString(r.stderr) {
		t.Errorf("a sensitive value shows:\n%v", r)
	}
}

const sensitiveJob = `variable "db_password" {
  type      = string
  sensitive = true
}

variable "token" {
  type      = string
  sensitive = true
}

locals {
  shout = upper(var.db_password)
}

job "app" {
  restart_policy = "never"
  task {
    engine = "exec"
    cmd    = ["sh", "-c", "echo started with $DB_PASSWORD", var.db_password]
    env = {
      DB_PASSWORD = var.db_password
      SHOUT       = local.shout
    }
    input {
      source = "http://127.0.0.1:9/export.csv?token=${var.token}"
      target = "/in/export.csv"
    }
  }
}
`

// TestSensitiveThroughControlPlane: commands that reach a running control
// plane through its API (muster dev) hide sensitive values as commands on
// the state directory do: the paths travel with the spec and come back
// for the old side of a diff, for history and for get; the control plane's
// own events hide them too.
func TestSensitiveThroughControlPlane(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	file := c.write("app.hcl", sensitiveJob)

	// The input cannot be fetched: the rollout fails, and its events, the
	// job's message and the executions' messages quote the source.
	r := c.run("apply", "--auto-approve", "--var", "db_password=hunter2-v1", "--var", "token=t0k3n-1", file)
	if r.code != 1 || !strings.Contains(r.stdout, "input (sensitive) -> /in/export.csv") {
		t.Errorf("apply of a job whose input fails: %v", r)
	}
	noSecret(t, r)
	r = c.run("apply", "--auto-approve", "-o", "json", "--var", "db_password=hunter2-v2", "--var", "token=t0k3n-2", file)
	if !strings.Contains(r.stdout, `"kind":"execution"`) || !strings.Contains(r.stdout, "(sensitive)") {
		t.Errorf("apply -o json through the control plane: %v", r)
	}
	noSecret(t, r)

	r = c.ok("plan", "--var", "db_password=hunter2-v3", "--var", "token=t0k3n-2", file)
	for _, line := range []string{"~ task.env.DB_PASSWORD: (sensitive) -> (sensitive)", "~ task.env.SHOUT: (sensitive) -> (sensitive)", "~ task.cmd[3]: (sensitive) -> (sensitive)"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("plan lacks %q:\n%v", line, r)
		}
	}
	noSecret(t, r)
	for _, args := range [][]string{
		{"history", "-p", "app"},
		{"history", "-p", "-o", "json", "app"},
		{"get", "app"},
		{"get", "-o", "json", "app"},
		{"executions", "--all", "app"},
		{"executions", "--all", "-o", "json", "app"},
	} {
		r := c.ok(args...)
		if !strings.Contains(r.stdout, "(sensitive)") {
			t.Errorf("muster %s hides nothing:\n%v", strings.Join(args, " "), r)
		}
		noSecret(t, r)
	}
	noSecret(t, c.ok("status"))
	if r := c.ok("get", "-o", "json", "--show-sensitive", "app"); !strings.Contains(r.stdout, "hunter2-v2") {
		t.Errorf("get --show-sensitive: %v", r)
	}
}

// TestSavedPlanOnlyForItsOwner: a saved plan holds sensitive values in
// clear, so it is written 0600, also over a file that was readable by
// others, and never through a link planted where it goes.
func TestSavedPlanOnlyForItsOwner(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	file := c.write("app.hcl", sensitiveJob)
	vars := []string{"--var", "db_password=hunter2-v1", "--var", "token=t0k3n-1", file}

	open := filepath.Join(c.dir, "open.plan")
	if err := os.WriteFile(open, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(c.dir, "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(c.dir, "link.plan")
	if err := os.Symlink(victim, link); err != nil {
		t.Fatal(err)
	}
	// A link where a writer that names its temporary file after the plan
	// would write first.
	if err := os.Symlink(victim, filepath.Join(c.dir, "tmp.plan.tmp")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"new.plan", open, link, "tmp.plan"} {
		r := c.ok(append([]string{"plan", "--out", path}, vars...)...)
		noSecret(t, r)
		p := path
		if !filepath.IsAbs(p) {
			p = filepath.Join(c.dir, p)
		}
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want a regular file 0600", path, fi.Mode())
		}
		if b, _ := os.ReadFile(p); !strings.Contains(string(b), "hunter2-v1") {
			t.Errorf("%s does not hold the spec whole:\n%s", path, b)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Errorf("the plan was written through the link: %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(c.dir, ".*.plan.*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

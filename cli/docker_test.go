package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-dev/muster/runner/docker/dockertest"
)

// TestApplyDocker applies a docker batch job end to end through the CLI, on
// an image built from scratch in the test: the task sees its environment,
// writes an output that becomes a document, and a failing new version rolls
// back.
func TestApplyDocker(t *testing.T) {
	cli := dockertest.Client(t)
	image := dockertest.AppImage(t, cli)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	write := func(name, cmd string) string {
		p := filepath.Join(dir, name)
		job := fmt.Sprintf(`name: boxed
task:
  engine: docker
  image: %q
  cmd: [%s]
  env: {GREETING: hi}
  outputs: [{path: /out/result.txt}]
`, image, cmd)
		if err := os.WriteFile(p, []byte(job), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	muster := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := run(append(args, "--state-dir", stateDir), strings.NewReader(""), &out, &out)
		return out.String(), code
	}

	v1 := write("v1.yaml", `env, write, /out/result.txt, "made in a box"`)
	out, code := muster("apply", "--auto-approve", v1)
	if code != 0 {
		t.Fatalf("apply v1: exit %d\n%s", code, out)
	}
	for _, want := range []string{"GREETING=hi", "MUSTER_ROOT=/", "MUSTER_JOB_NAME=boxed", "MUSTER_JOB_VERSION=1", "version 1 completed", "output /out/result.txt: sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	js, _ := muster("executions", "-o", "json", "boxed")
	var execs []struct {
		Outputs []struct{ Hash string } `json:"outputs"`
	}
	if err := json.Unmarshal([]byte(js), &execs); err != nil || len(execs) != 1 || len(execs[0].Outputs) != 1 {
		t.Fatalf("executions: %v\n%s", err, js)
	}
	doc, code := muster("doc", "get", execs[0].Outputs[0].Hash)
	if code != 0 || doc != "made in a box" {
		t.Errorf("output document = %q (exit %d)", doc, code)
	}

	v2 := write("v2.yaml", `exit, "3"`)
	out, code = muster("apply", "--auto-approve", v2)
	if code == 0 || !strings.Contains(out, "rolled back to the spec of version 1") {
		t.Errorf("apply v2: exit %d, want a rollback:\n%s", code, out)
	}
}

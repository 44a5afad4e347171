package cli

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestApplyWasm applies wasm batch jobs end to end through the CLI: a module
// built in the test with GOOS=wasip1, given once by absolute path and once
// as a sha256: document stored with 'muster doc put'.
func TestApplyWasm(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	dir := t.TempDir()
	module := filepath.Join(dir, "prog.wasm")
	build := exec.Command("go", "build", "-o", module, "../runner/wasm/testdata/prog")
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build a wasip1 module here: %v\n%s", err, out)
	}
	stateDir := filepath.Join(dir, "state")
	muster := func(stdin string, args ...string) (string, int) {
		var out bytes.Buffer
		code := run(append(args, "--state-dir", stateDir), strings.NewReader(stdin), &out, &out)
		return out.String(), code
	}
	job := func(name, image string) string {
		p := filepath.Join(dir, name+".yaml")
		os.WriteFile(p, []byte(fmt.Sprintf("name: %s\ntask: {engine: wasm, image: %q, cmd: [hello]}\n", name, image)), 0o644)
		return p
	}
	out, code := muster("", "apply", "--auto-approve", job("bypath", module))
	if code != 0 || !strings.Contains(out, "| hello") || !strings.Contains(out, "version 1 completed") {
		t.Fatalf("apply by path: exit %d\n%s", code, out)
	}
	f, _ := os.Open(module)
	defer f.Close()
	var hashOut bytes.Buffer
	if code := run([]string{"doc", "put", module, "--state-dir", stateDir}, f, &hashOut, &bytes.Buffer{}); code != 0 {
		t.Fatalf("doc put: exit %d", code)
	}
	hash := strings.TrimSpace(hashOut.String())
	out, code = muster("", "apply", "--auto-approve", job("bydoc", hash))
	if code != 0 || !strings.Contains(out, "| hello") {
		t.Fatalf("apply by document %s: exit %d\n%s", hash, code, out)
	}
}

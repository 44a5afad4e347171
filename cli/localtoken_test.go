package cli

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDevRequiresItsLocalToken: 'muster dev' given no MUSTER_TOKEN makes
// a token of its own and records it in dev.json, mode 0600: commands and
// agents of the same user reach it through the state directory, with
// --addr as well; a request without the token (another local user's) is
// refused.
func TestDevRequiresItsLocalToken(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	addr := c.start(apiRE, "dev", "--listen", "127.0.0.1:0").waitFor(apiRE)
	rec := filepath.Join(c.dir, ".muster", devFile)
	fi, err := os.Stat(rec)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", rec, fi, err)
	}
	if b, _ := os.ReadFile(rec); !strings.Contains(string(b), `"token":"local_`) {
		t.Fatalf("%s holds no token: %s", rec, b)
	}
	resp, err := http.Get("http://" + addr + "/v1/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a request without the token: %s, want 401", resp.Status)
	}
	c.ok("apply", "--auto-approve", c.write("hello.yaml", "name: hello\ntask: {engine: exec, cmd: [echo, hi]}\n"))
	if r := c.ok("status", "--addr", addr); !strings.Contains(r.stdout, "hello") {
		t.Errorf("status with --addr:\n%s", r.stdout)
	}
	c.start(`joined the control plane`, "agent", "--node-id", "w1", "--dir", "agent-w1")
}

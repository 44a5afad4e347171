package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestScopedTokenCommands creates, lists and revokes a scoped token
// against a `muster dev` that requires a token, and checks that a read
// token reads but cannot apply.
func TestScopedTokenCommands(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	admin := newCLI(t, "MUSTER_TOKEN=boot-s3cret")
	addr := admin.start(apiRE, "dev", "--listen", "127.0.0.1:0", "--state-dir", ".muster").waitFor(apiRE)

	created := admin.ok("token", "create", "--addr", addr, "--namespace", "default", "--role", "read", "--description", "dashboards")
	secret := strings.TrimSpace(created.stdout)
	if !strings.HasPrefix(secret, "mst_") || strings.Contains(secret, "\n") {
		t.Fatalf("token create printed %q, want the token alone", created.stdout)
	}
	if !strings.Contains(created.stderr, "shown only now") {
		t.Errorf("token create does not say the token is shown once: %v", created)
	}

	var toks []struct {
		ID, Namespace, Role, Description string
	}
	list := admin.ok("token", "list", "--addr", addr, "-o", "json")
	if err := json.Unmarshal([]byte(list.stdout), &toks); err != nil {
		t.Fatalf("token list -o json: %v\n%s", err, list.stdout)
	}
	if len(toks) != 1 || toks[0].Namespace != "default" || toks[0].Role != "read" || toks[0].Description != "dashboards" ||
		!strings.HasPrefix(secret, "mst_"+toks[0].ID+"_") {
		t.Fatalf("token list = %+v, want the token created", toks)
	}
	if strings.Contains(list.stdout, secret[len(secret)-64:]) {
		t.Fatalf("token list shows the secret:\n%s", list.stdout)
	}
	if text := admin.ok("token", "list", "--addr", addr).stdout; !strings.Contains(text, toks[0].ID) || !strings.Contains(text, "never") {
		t.Errorf("token list:\n%s", text)
	}

	reader := newCLI(t, "MUSTER_TOKEN="+secret)
	reader.dir = admin.dir
	file := reader.jobFile("a")
	if r := reader.run("apply", "--auto-approve", "--addr", addr, file); r.code != 1 || !strings.Contains(r.stderr, "needs role write") {
		t.Errorf("apply with a read token: %v", r)
	}
	admin.ok("apply", "--auto-approve", "--detach", "--addr", addr, file)
	if r := reader.ok("status", "--addr", addr); !strings.Contains(r.stdout, "web") {
		t.Errorf("status with a read token:\n%s", r.stdout)
	}
	if r := reader.run("token", "list", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "needs role admin") {
		t.Errorf("token list with a read token: %v", r)
	}

	admin.ok("token", "revoke", "--addr", addr, toks[0].ID)
	if r := reader.run("status", "--addr", addr); r.code != 1 || !strings.Contains(r.stderr, "unknown or revoked") {
		t.Errorf("status with a revoked token: %v", r)
	}
	if r := admin.run("token", "revoke", "--addr", addr, toks[0].ID); r.code != 1 || !strings.Contains(r.stderr, "not found") {
		t.Errorf("revoke twice: %v", r)
	}
	if r := admin.ok("token", "list", "--addr", addr); !strings.Contains(r.stdout, "No tokens.") {
		t.Errorf("token list after revoke:\n%s", r.stdout)
	}
}

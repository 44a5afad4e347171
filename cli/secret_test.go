package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretCommands stores, lists and removes a secret in an embedded
// control plane, and checks that no command prints the value and that the
// state directory holds it only encrypted.
func TestSecretCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	const value = "pa55-w0rd-in-the-commands-test"
	muster := func(stdin string, args ...string) (string, int) {
		var out bytes.Buffer
		code := run(append(args, "--state-dir", dir), strings.NewReader(stdin), &out, &out)
		if strings.Contains(out.String(), value) {
			t.Fatalf("muster %s printed the value:\n%s", strings.Join(args, " "), out.String())
		}
		return out.String(), code
	}
	if out, code := muster("", "secret", "list", "-o", "json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("list of nothing: exit %d\n%s", code, out)
	}
	if out, code := muster(value, "secret", "put", "shop/db_password"); code != 0 || !strings.Contains(out, "stored (30 bytes)") {
		t.Fatalf("put from stdin: exit %d\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "v")
	os.WriteFile(file, []byte("x"), 0o600)
	if out, code := muster("", "secret", "put", "shop/other", file); code != 0 {
		t.Fatalf("put from a file: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"secret", "put", "shop"}, "want a secret as NAMESPACE/NAME"},
		{[]string{"secret", "put", "Shop/x"}, "invalid namespace"},
		{[]string{"secret", "rm", "shop/missing"}, "not found"},
	} {
		if out, code := muster("v", c.args...); code != 1 || !strings.Contains(out, c.want) {
			t.Errorf("muster %v: exit %d\n%s", c.args, code, out)
		}
	}
	out, code := muster("", "secret", "list", "shop", "-o", "json")
	var list []struct {
		Namespace, Name string
		Size            int
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil || len(list) != 2 || list[0].Name != "db_password" || list[0].Size != len(value) {
		t.Fatalf("list -o json: exit %d, %v\n%s", code, err, out)
	}
	if out, _ := muster("", "secret", "list"); !strings.Contains(out, "secret:shop/db_password") {
		t.Errorf("list names no reference:\n%s", out)
	}
	fi, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, %v", fi, err)
	}
	assertNotInDir(t, dir, value)
	if out, code := muster("", "secret", "rm", "shop/db_password"); code != 0 {
		t.Fatalf("rm: exit %d\n%s", code, out)
	}
	if out, _ := muster("", "secret", "list", "shop"); strings.Contains(out, "db_password") {
		t.Errorf("list after rm:\n%s", out)
	}
}

// assertNotInDir fails when any file under dir holds s.
func assertNotInDir(t *testing.T, dir, s string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // a lock or socket
		}
		if bytes.Contains(b, []byte(s)) {
			t.Errorf("%s holds the secret's value", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestSecretReachesOnlyTheTask: under `muster dev`, a batch job that refers
// to a secret not stored is warned about by plan and queues naming it; once
// `muster secret put` stores it, the job runs and its task sees the value,
// which no command shows and no file of the state directory holds.
func TestSecretReachesOnlyTheTask(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	value := fmt.Sprintf("dev-s3cret-%d", time.Now().UnixNano())
	sum := sha256.Sum256([]byte(value))
	file := c.write("db.yaml", `name: db
type: batch
task:
  engine: exec
  cmd: [sh, -c, 'printf "len=%s sum=%s\n" "${#DB_PASSWORD}" "$(printf %s "$DB_PASSWORD" | sha256sum | cut -c1-64)"']
  env: {DB_PASSWORD: "secret:default/db"}
`)
	shown := []string{}
	note := func(r result) result {
		shown = append(shown, r.stdout, r.stderr)
		return r
	}
	if r := note(c.run("plan", file)); !strings.Contains(r.stdout, "secret default/db does not exist") {
		t.Fatalf("plan does not warn of the missing secret:\n%v", r)
	}
	note(c.ok("apply", "--auto-approve", "--detach", file))
	if st := c.waitState("db", "queued"); !strings.Contains(st.Message, "secret default/db does not exist") {
		t.Fatalf("queued without saying why: %+v", st)
	}

	valueFile := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(valueFile, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
	note(c.ok("secret", "put", "default/db", valueFile))
	c.waitState("db", "completed")
	logs := note(c.ok("logs", "db")).stdout
	if want := fmt.Sprintf("len=%d sum=%s", len(value), hex.EncodeToString(sum[:])); !strings.Contains(logs, want) {
		t.Fatalf("the task did not see the secret: logs\n%s\nwant %s", logs, want)
	}
	for _, args := range [][]string{
		{"get", "default/db"},
		{"plan", "-o", "json", file},
		{"status", "-o", "json", "db"},
		{"executions", "--all", "-o", "json", "db"},
		{"history", "db"},
		{"secret", "list", "-o", "json"},
	} {
		note(c.ok(args...))
	}
	for _, s := range shown {
		if strings.Contains(s, value) {
			t.Errorf("a command shows the secret's value:\n%s", s)
		}
	}
	assertNotInDir(t, filepath.Join(c.dir, ".muster"), value)
}

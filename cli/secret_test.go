package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

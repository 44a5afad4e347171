package state

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, SecretKeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestSecrets(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	ctx := ctxT(t)
	plain := []byte("hunter2-very-secret-value")
	if err := s.PutSecret(ctx, "team-a", "db", plain); !errors.Is(err, ErrNoSecretKey) {
		t.Fatalf("PutSecret without a key = %v, want ErrNoSecretKey", err)
	}
	key := randomKey(t)
	if err := s.SetSecretKey(key); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ctx, "team-a", "db", plain); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ctx, "team-b", "api_key", []byte("other")); err != nil {
		t.Fatal(err)
	}
	got, err := s.Secret(ctx, "team-a", "db")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Secret = %q, %v; want %q", got, err, plain)
	}
	kv, err := s.kv(ctx, bucketSecrets)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := kv.Get(ctx, "team-a.db")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Value(), plain) {
		t.Fatal("the stored value holds the plaintext")
	}
	list, err := s.Secrets(ctx, "team-a")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "db" || list[0].Size != len(plain) || list[0].Updated.IsZero() {
		t.Fatalf("Secrets(team-a) = %+v", list)
	}
	all, err := s.Secrets(ctx, AllNamespaces)
	if err != nil || len(all) != 2 || all[1].Namespace != "team-b" {
		t.Fatalf("Secrets(*) = %+v, %v", all, err)
	}
	if _, err := s.Secret(ctx, "team-a", "missing"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing secret: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSecret(ctx, "team-a", "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(ctx, "team-a", "db"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted secret: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSecret(ctx, "team-a", "db"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete twice: %v, want ErrNotFound", err)
	}
}

func TestSecretWrongKey(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	if err := s.SetSecretKey(randomKey(t)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSecret(ctx, "a", "x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSecretKey(randomKey(t)); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Secret(ctx, "a", "x"); err == nil {
		t.Fatalf("read with another key = %q, want an error", v)
	}
	// A value moved to another name does not decrypt either.
	kv, _ := s.kv(ctx, bucketSecrets)
	if err := s.PutSecret(ctx, "a", "x", []byte("v")); err != nil {
		t.Fatal(err)
	}
	e, _ := kv.Get(ctx, "a.x")
	if _, err := kv.Put(ctx, "a.y", e.Value()); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Secret(ctx, "a", "y"); err == nil {
		t.Fatalf("moved value read as %q", v)
	}
}

func TestCheckSecretInput(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	if err := s.SetSecretKey(randomKey(t)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ ns, name string }{{"A", "x"}, {"a", ""}, {"a", "x.y"}, {"a", "x/y"}} {
		if err := s.PutSecret(ctx, c.ns, c.name, []byte("v")); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutSecret(%q, %q) = %v, want ErrInvalid", c.ns, c.name, err)
		}
	}
	if err := s.PutSecret(ctx, "a", "big", make([]byte, MaxSecretSize+1)); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized secret: %v", err)
	}
	if err := s.SetSecretKey([]byte("short")); err == nil {
		t.Error("a short key was taken")
	}
}

func TestLoadOrCreateSecretKey(t *testing.T) {
	dir := t.TempDir()
	k1, err := LoadOrCreateSecretKey(dir)
	if err != nil || len(k1) != SecretKeySize {
		t.Fatalf("create: %d bytes, %v", len(k1), err)
	}
	fi, err := os.Stat(filepath.Join(dir, SecretKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, err := LoadOrCreateSecretKey(dir)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("reload gave another key (%v)", err)
	}
	if err := os.Chmod(filepath.Join(dir, SecretKeyFile), 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateSecretKey(dir); err == nil {
		t.Fatal("a key file readable by group was taken")
	}
	env := randomKey(t)
	t.Setenv(SecretKeyEnv, base64.StdEncoding.EncodeToString(env))
	if k, err := LoadSecretKey(dir); err != nil || !bytes.Equal(k, env) {
		t.Fatalf("LoadSecretKey with %s = %v", SecretKeyEnv, err)
	}
	t.Setenv(SecretKeyEnv, "bm90IDMyIGJ5dGVz")
	if _, err := LoadSecretKey(dir); err == nil {
		t.Fatal("a short key in the environment was taken")
	}
}

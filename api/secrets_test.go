package api

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/muster-dev/muster/state"
)

func TestSecretRoutes(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	ctx := ctxT(t)
	if err := h.client.PutSecret(ctx, "team-a", "db", []byte("v")); err == nil || !strings.Contains(err.Error(), "no secret key") {
		t.Fatalf("put without a key: %v", err)
	}
	key := make([]byte, state.SecretKeySize)
	rand.Read(key)
	if err := h.store.SetSecretKey(key); err != nil {
		t.Fatal(err)
	}
	const value = "s3cr3t-value-for-api"
	if err := h.client.PutSecret(ctx, "team-a", "db", []byte(value)); err != nil {
		t.Fatal(err)
	}
	got, err := h.store.Secret(ctx, "team-a", "db")
	if err != nil || string(got) != value {
		t.Fatalf("stored %q, %v", got, err)
	}
	list, err := h.client.Secrets(ctx, "team-a")
	if err != nil || len(list) != 1 || list[0].Name != "db" || list[0].Size != len(value) {
		t.Fatalf("Secrets = %+v, %v", list, err)
	}
	readA := newToken(t, h, "team-a", state.RoleRead)
	writeA := newToken(t, h, "team-a", state.RoleWrite)
	writeB := newToken(t, h, "team-b", state.RoleWrite)
	for _, c := range []struct {
		name, token, method, path, body string
		status                          int
		mention                         string
	}{
		{"read lists its namespace", readA, "GET", "/v1/secrets?namespace=team-a", "", 200, `"name":"db"`},
		{"read lists its own by default", readA, "GET", "/v1/secrets", "", 200, `"name":"db"`},
		{"read of another namespace", readA, "GET", "/v1/secrets?namespace=team-b", "", 403, "not team-b"},
		{"read of every namespace", readA, "GET", "/v1/secrets?namespace=*", "", 403, "not *"},
		{"read cannot put", readA, "PUT", "/v1/secrets/team-a/x", "v", 403, "needs role write"},
		{"write of another namespace", writeB, "PUT", "/v1/secrets/team-a/x", "v", 403, "not team-a"},
		{"write of another namespace cannot delete", writeB, "DELETE", "/v1/secrets/team-a/db", "", 403, "not team-a"},
		{"bad name", writeA, "PUT", "/v1/secrets/team-a/a.b", "v", 400, "secret name"},
		{"too large", writeA, "PUT", "/v1/secrets/team-a/big", strings.Repeat("x", state.MaxSecretSize+1), 413, ""},
		{"write puts", writeA, "PUT", "/v1/secrets/team-a/x", "other-value", 200, `"size":11`},
		{"delete a missing one", writeA, "DELETE", "/v1/secrets/team-a/nope", "", 404, "secret team-a/nope"},
		{"write deletes", writeA, "DELETE", "/v1/secrets/team-a/x", "", 200, "{}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := h.raw(t, c.method, c.path, c.token, c.body)
			if status != c.status || !strings.Contains(body, c.mention) {
				t.Fatalf("%s %s = %d %s, want %d mentioning %q", c.method, c.path, status, body, c.status, c.mention)
			}
			if strings.Contains(body, value) || strings.Contains(body, "other-value") {
				t.Fatalf("a response holds a value: %s", body)
			}
		})
	}
	if err := h.client.DeleteSecret(ctx, "team-a", "db"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.Secret(ctx, "team-a", "db"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := h.client.DeleteSecret(ctx, "team-a", "db"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

// TestSecretListOfAToken: a client listing every namespace's secrets with
// a token of one namespace gets that namespace's.
func TestSecretListOfAToken(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	ctx := ctxT(t)
	key := make([]byte, state.SecretKeySize)
	rand.Read(key)
	h.store.SetSecretKey(key)
	for _, ns := range []string{"team-a", "team-b"} {
		if err := h.client.PutSecret(ctx, ns, "db", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	all, err := h.client.Secrets(ctx, state.AllNamespaces)
	if err != nil || len(all) != 2 {
		t.Fatalf("bootstrap lists %+v, %v; want both", all, err)
	}
	c := NewClient(h.srv.URL, newToken(t, h, "team-b", state.RoleRead))
	defer c.Close()
	got, err := c.Secrets(ctx, state.AllNamespaces)
	if err != nil || len(got) != 1 || got[0].Namespace != "team-b" {
		t.Fatalf("a team-b token lists %+v, %v", got, err)
	}
}

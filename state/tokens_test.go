package state

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokenSpecCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		spec TokenSpec
		ok   bool
	}{
		{"namespace read", TokenSpec{Namespace: "team-a", Role: RoleRead}, true},
		{"all namespaces admin", TokenSpec{Namespace: AllNamespaces, Role: RoleAdmin, TTL: time.Hour}, true},
		{"no namespace", TokenSpec{Role: RoleRead}, false},
		{"bad namespace", TokenSpec{Namespace: "Team A", Role: RoleRead}, false},
		{"no role", TokenSpec{Namespace: "a"}, false},
		{"unknown role", TokenSpec{Namespace: "a", Role: "owner"}, false},
		{"negative ttl", TokenSpec{Namespace: "a", Role: RoleRead, TTL: -time.Second}, false},
		{"ttl under a second", TokenSpec{Namespace: "a", Role: RoleRead, TTL: time.Millisecond}, false},
		{"long description", TokenSpec{Namespace: "a", Role: RoleRead, Description: strings.Repeat("x", MaxTokenDescription+1)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.spec.Check()
			if (err == nil) != c.ok {
				t.Fatalf("Check() = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Errorf("%v does not match ErrInvalid", err)
			}
		})
	}
}

func TestRoleIncludes(t *testing.T) {
	for _, c := range []struct {
		have, need Role
		want       bool
	}{
		{RoleRead, RoleRead, true},
		{RoleRead, RoleWrite, false},
		{RoleWrite, RoleRead, true},
		{RoleWrite, RoleAdmin, false},
		{RoleAdmin, RoleWrite, true},
		{"", RoleRead, false},
		{"owner", RoleRead, false},
	} {
		if got := c.have.Includes(c.need); got != c.want {
			t.Errorf("%q.Includes(%q) = %v, want %v", c.have, c.need, got, c.want)
		}
	}
}

func TestTokens(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	read, readSecret, err := s.CreateToken(ctx, TokenSpec{Namespace: "team-a", Role: RoleRead, Description: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	admin, adminSecret, err := s.CreateToken(ctx, TokenSpec{Namespace: AllNamespaces, Role: RoleAdmin, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(readSecret, TokenPrefix+read.ID+"_") || !IsScopedToken(readSecret) {
		t.Fatalf("secret %q: want %s%s_<secret>", readSecret, TokenPrefix, read.ID)
	}
	if d := admin.Expires.Sub(admin.Created); d < time.Hour-time.Second || d > time.Hour+time.Second || !read.Expires.IsZero() {
		t.Errorf("expiry: admin %v after creation, read %v", admin.Expires.Sub(admin.Created), read.Expires)
	}
	got, err := s.AuthenticateToken(ctx, readSecret)
	if err != nil || got != read {
		t.Fatalf("AuthenticateToken = %+v, %v; want %+v", got, err, read)
	}
	if !got.Covers("team-a") || got.Covers("team-b") {
		t.Errorf("read token for team-a covers team-a %v, team-b %v", got.Covers("team-a"), got.Covers("team-b"))
	}

	// The secret is never stored, nor listed.
	list, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("Tokens = %+v, want 2", list)
	}
	raw := rawTokenBucket(t, s)
	secretPart := readSecret[len(TokenPrefix+read.ID+"_"):]
	if strings.Contains(raw, secretPart) {
		t.Fatalf("the stored tokens hold a secret: %s", raw)
	}

	wrong := readSecret[:len(readSecret)-1] + flipHex(readSecret[len(readSecret)-1])
	for _, c := range []struct{ name, token string }{
		{"wrong secret", wrong},
		{"unknown id", TokenPrefix + "0123456789abcdef_" + secretPart},
		{"malformed", "mst_xyz"},
		{"bootstrap-like", "hunter2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.AuthenticateToken(ctx, c.token); !errors.Is(err, ErrBadToken) {
				t.Errorf("AuthenticateToken(%q) = %v, want ErrBadToken", c.token, err)
			}
		})
	}

	// Expired at its expiry, not before.
	if _, err := s.authenticateAt(ctx, adminSecret, admin.Expires.Add(-time.Second)); err != nil {
		t.Errorf("before expiry: %v", err)
	}
	if _, err := s.authenticateAt(ctx, adminSecret, admin.Expires); !errors.Is(err, ErrBadToken) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("at expiry: %v, want expired", err)
	}

	// Revoked: refused, gone from the list, and not revoked twice.
	if err := s.RevokeToken(ctx, read.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthenticateToken(ctx, readSecret); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked token: %v, want ErrBadToken", err)
	}
	if err := s.RevokeToken(ctx, read.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("revoke again: %v, want ErrNotFound", err)
	}
	if err := s.RevokeToken(ctx, "nope"); !errors.Is(err, ErrInvalid) {
		t.Errorf("revoke bad id: %v, want ErrInvalid", err)
	}
	if list, err = s.Tokens(ctx); err != nil || len(list) != 1 || list[0].ID != admin.ID {
		t.Errorf("after revoke: Tokens = %+v, %v; want only %s", list, err, admin.ID)
	}
}

// rawTokenBucket returns every stored value of the tokens bucket.
func rawTokenBucket(t *testing.T, s *Store) string {
	t.Helper()
	ctx := ctxT(t)
	kv, err := s.kv(ctx, bucketTokens)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := watchValues(ctx, kv, ">")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		b.Write(e.Value())
	}
	return b.String()
}

// flipHex returns a hex digit other than c.
func flipHex(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

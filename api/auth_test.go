package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

const bootToken = "boot-token"

// newToken creates a token through the harness's client, which holds the
// bootstrap token.
func newToken(t *testing.T, h *harness, ns string, role state.Role) string {
	t.Helper()
	_, secret, err := h.client.CreateToken(ctxT(t), state.TokenSpec{Namespace: ns, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestScopedTokens(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	web := commit(t, h.client, "web", 1, 0)
	teamSpec := string(canonicalOf(`{"namespace":"team-a","name":"api","task":{"engine":"exec","cmd":["true"]}}`))
	defaultSpec := string(spec("web", 2))
	node := `{"id":"n1","labels":{}}`
	readA := newToken(t, h, "team-a", state.RoleRead)
	readDefault := newToken(t, h, "default", state.RoleRead)
	writeA := newToken(t, h, "team-a", state.RoleWrite)
	writeDefault := newToken(t, h, "default", state.RoleWrite)
	adminA := newToken(t, h, "team-a", state.RoleAdmin)
	readAll := newToken(t, h, state.AllNamespaces, state.RoleRead)
	_, expired, err := h.client.CreateToken(ctxT(t), state.TokenSpec{Namespace: "default", Role: state.RoleAdmin, TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 10*time.Second, "the token to expire", func() bool {
		status, _, _ := h.raw(t, "GET", "/v1/info", expired, "")
		return status == http.StatusUnauthorized
	})
	stop := "/v1/jobs/default/web/stop"
	join := newToken(t, h, state.AllNamespaces, state.RoleJoin)
	_, nodeN1, err := h.client.CreateToken(ctxT(t), state.TokenSpec{Namespace: state.AllNamespaces, Role: state.RoleNode, Node: "n1"})
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, token, method, path, body string
		status                          int
		mention                         string // in the body
	}{
		{"read lists its namespace", readA, "GET", "/v1/jobs", "", 200, "[]"},
		{"join reads the info", join, "GET", "/v1/info", "", 200, "api_version"},
		{"join cannot read jobs", join, "GET", "/v1/jobs", "", 403, "has role join"},
		{"join joins a node", join, "POST", "/v1/nodes/n7/join", "", 201, `"role":"node"`},
		{"read cannot join a node", readAll, "POST", "/v1/nodes/n8/join", "", 403, "needs role join"},
		{"a node's token is its own join", nodeN1, "POST", "/v1/nodes/n1/join", "", 200, `"node":"n1"`},
		{"a node's token joins no other node", nodeN1, "POST", "/v1/nodes/n2/join", "", 403, "needs role join"},
		{"a node's token reads no job", nodeN1, "GET", "/v1/jobs", "", 403, "has role node"},
		{"read of another namespace", readA, "GET", "/v1/jobs/default/web", "", 403, "is for namespace team-a, not default"},
		{"read of its namespace", readDefault, "GET", "/v1/jobs/default/web", "", 200, web.Hash},
		{"read cannot stop", readDefault, "POST", stop, "", 403, "has role read; POST " + stop + " needs role write"},
		{"write of another namespace", writeA, "POST", stop, "", 403, "namespace team-a, not default"},
		{"write stops", writeDefault, "POST", stop, "", 200, "stopped"},
		{"write stores a spec of its namespace", writeA, "POST", "/v1/specs", teamSpec, 200, "sha256:"},
		{"write stores no spec of another", writeA, "POST", "/v1/specs", defaultSpec, 403, "not default"},
		{"write adds no sensitive paths to another's spec", writeA, "POST", "/v1/specs/" + web.Hash + "/sensitive", `{"paths":[]}`, 403, "not default"},
		{"read reads any spec", readA, "GET", "/v1/specs/" + web.Hash, "", 200, `"name":"web"`},
		{"write registers no node", writeDefault, "PUT", "/v1/nodes/n1", node, 403, "needs role admin"},
		{"namespace admin registers no node", adminA, "PUT", "/v1/nodes/n1", node, 403, "needs a token for every namespace"},
		{"bootstrap registers a node", bootToken, "PUT", "/v1/nodes/n1", node, 200, `"n1"`},
		{"check needs every namespace", readA, "GET", "/v1/check", "", 403, "every namespace"},
		{"check with a read token for all", readAll, "GET", "/v1/check", "", 200, ""},
		{"read lists every namespace", readAll, "GET", "/v1/jobs", "", 200, `"web"`},
		{"write manages no tokens", writeDefault, "GET", "/v1/tokens", "", 403, "needs role admin"},
		{"namespace admin makes no token for all", adminA, "POST", "/v1/tokens", `{"namespace":"*","role":"read"}`, 403, "not *"},
		{"namespace admin makes one of its namespace", adminA, "POST", "/v1/tokens", `{"namespace":"team-a","role":"write","ttl":"1h"}`, 201, `"token":"mst_`},
		{"bad role", bootToken, "POST", "/v1/tokens", `{"namespace":"a","role":"owner"}`, 400, "invalid role"},
		{"bad ttl", bootToken, "POST", "/v1/tokens", `{"namespace":"a","role":"read","ttl":"soon"}`, 400, "invalid ttl"},
		{"events of another namespace", readA, "GET", "/v1/events?namespace=default", "", 403, "not default"},
		{"events of a job of another namespace", readA, "GET", "/v1/events?name=web", "", 403, "not default"},
		{"unknown token", "mst_0123456789abcdef_" + strings.Repeat("0", 64), "GET", "/v1/info", "", 401, "unknown or revoked"},
		{"expired token", expired, "GET", "/v1/info", "", 401, "expired"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, code, body := h.raw(t, c.method, c.path, c.token, c.body)
			if status != c.status || !strings.Contains(body, c.mention) {
				t.Fatalf("%s %s = %d %s, want %d mentioning %q", c.method, c.path, status, body, c.status, c.mention)
			}
			if want := map[int]string{401: CodeUnauthorized, 403: CodeForbidden}[status]; want != "" && code != want {
				t.Errorf("code %q, want %q", code, want)
			}
		})
	}
}

func TestTokenRoutes(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	ctx := ctxT(t)
	tokA, secretA, err := h.client.CreateToken(ctx, state.TokenSpec{Namespace: "team-a", Role: state.RoleAdmin, Description: "team a", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tokB, secretB, err := h.client.CreateToken(ctx, state.TokenSpec{Namespace: "team-b", Role: state.RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	if d := tokA.Expires.Sub(tokA.Created); tokA.Description != "team a" || d < time.Hour-time.Second || d > time.Hour+time.Second {
		t.Errorf("created %+v", tokA)
	}
	all, err := h.client.Tokens(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("Tokens = %+v, %v; want 2", all, err)
	}
	_, _, body := h.raw(t, "GET", "/v1/tokens", bootToken, "")
	for _, secret := range []string{secretA, secretB} {
		if strings.Contains(body, secret[len(secret)-64:]) {
			t.Fatalf("GET /v1/tokens shows a secret: %s", body)
		}
	}

	// An admin of team-a sees and revokes the tokens of team-a only.
	adminA := NewClient(h.srv.URL, secretA)
	defer adminA.Close()
	if mine, err := adminA.Tokens(ctx); err != nil || len(mine) != 1 || mine[0].ID != tokA.ID {
		t.Errorf("team-a admin's Tokens = %+v, %v; want only %s", mine, err, tokA.ID)
	}
	var apiErr *Error
	if err := adminA.RevokeToken(ctx, tokB.ID); !errors.As(err, &apiErr) || apiErr.Code != CodeForbidden {
		t.Errorf("team-a admin revokes a team-b token: %v, want forbidden", err)
	}

	// Revoked: refused at once, and not found again.
	if err := h.client.RevokeToken(ctx, tokB.ID); err != nil {
		t.Fatal(err)
	}
	if status, _, body := h.raw(t, "GET", "/v1/info", secretB, ""); status != http.StatusUnauthorized {
		t.Errorf("revoked token: %d %s, want 401", status, body)
	}
	if err := h.client.RevokeToken(ctx, tokB.ID); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("revoke twice: %v, want not found", err)
	}
}

// TestOpenServerTokens checks that a server without a bootstrap token
// serves everyone, the token routes included, whatever token is sent.
func TestOpenServerTokens(t *testing.T) {
	h := newHarness(t, "", nil)
	_, secret, err := h.client.CreateToken(ctxT(t), state.TokenSpec{Namespace: "team-a", Role: state.RoleRead})
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := h.raw(t, "PUT", "/v1/nodes/n1", secret, `{"id":"n1","labels":{}}`); status != http.StatusOK {
		t.Errorf("open server: %d %s", status, body)
	}
}

// TestEventsOfTokenNamespace checks that a token for one namespace that
// follows every job's events follows those of its namespace.
func TestEventsOfTokenNamespace(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	c := NewClient(h.srv.URL, newToken(t, h, "team-a", state.RoleRead))
	defer c.Close()
	ctx, cancel := context.WithCancel(ctxT(t))
	defer cancel()
	if _, err := c.Events(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	ns, _ := wait.For(t, 10*time.Second, "the event subscription", func() (string, bool) {
		h.ctl.mu.Lock()
		defer h.ctl.mu.Unlock()
		for s := range h.ctl.subs {
			return s.ns, true
		}
		return "", false
	})
	if ns != "team-a" {
		t.Errorf("subscribed to namespace %q, want team-a", ns)
	}
}

// TestForbiddenError checks how the client reports a forbidden request.
func TestForbiddenError(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	c := NewClient(h.srv.URL, newToken(t, h, "team-a", state.RoleRead))
	defer c.Close()
	_, err := c.Stop(ctxT(t), "team-a", "web")
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden || apiErr.Code != CodeForbidden {
		t.Fatalf("Stop with a read token = %v, want 403 forbidden", err)
	}
	if errors.Is(err, state.ErrNotFound) || !strings.Contains(err.Error(), "needs role write") {
		t.Errorf("forbidden error %q", err)
	}
	var body errorBody
	_, _, raw := h.raw(t, "POST", "/v1/jobs/team-a/web/stop", "", "")
	if json.Unmarshal([]byte(raw), &body) != nil || body.Code != CodeUnauthorized {
		t.Errorf("no token: %s", raw)
	}
}

// TestLaunchNeedsWriteInItsNamespace: launching a job is a write in its
// namespace: a read token, and a write token of another namespace, are
// refused before the control plane is asked.
func TestLaunchNeedsWriteInItsNamespace(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	ctx := ctxT(t)
	for _, tok := range []string{newToken(t, h, "team-a", state.RoleRead), newToken(t, h, "team-b", state.RoleWrite)} {
		c := NewClient(h.srv.URL, tok)
		_, err := c.Launch(ctx, "team-a", "web")
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusForbidden {
			t.Errorf("launch with a token that may not write team-a: %v, want 403", err)
		}
		c.Close()
	}
	c := NewClient(h.srv.URL, newToken(t, h, "team-a", state.RoleWrite))
	defer c.Close()
	if _, err := c.Launch(ctx, "team-a", "web"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("launch of a missing job with a write token: %v, want not found from the control plane", err)
	}
}

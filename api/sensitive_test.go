package api

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

func TestSensitivePaths(t *testing.T) {
	h := newHarness(t, "tok", nil)
	c, ctx := h.client, ctxT(t)
	hash, err := c.PutSpec(ctx, canonicalOf(`{"name":"web","task":{"engine":"exec","env":{"PW":"hunter2","MODE":"a"},"cmd":["run","hunter2"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.SensitivePaths(ctx, hash); err != nil || len(got) != 0 {
		t.Fatalf("SensitivePaths before any = %q, %v", got, err)
	}
	if status, _, body := h.raw(t, http.MethodGet, "/v1/specs/"+hash+"/sensitive", "tok", ""); status != http.StatusOK || strings.TrimSpace(body) != `{"paths":[]}` {
		t.Errorf("GET with none = %d %s; want an empty list", status, body)
	}
	got, err := c.AddSensitivePaths(ctx, hash, []string{"task.env.PW"})
	if want := []string{"task.env.PW"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("AddSensitivePaths = %q, %v", got, err)
	}
	got, err = c.AddSensitivePaths(ctx, hash, []string{"task.cmd[1]"})
	want := []string{"task.cmd[1]", "task.env.PW"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("second AddSensitivePaths = %q, %v; want the union %q", got, err, want)
	}
	if got, err := c.SensitivePaths(ctx, hash); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("SensitivePaths = %q, %v; want %q", got, err, want)
	}
	if got, err := h.store.SensitivePaths(ctx, hash); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("the store holds %q, %v; want %q", got, err, want)
	}

	// Errors: a path that names nothing is the caller's mistake; a spec
	// that is not stored is not found; a bad hash never leaves the client;
	// the token is required.
	_, err = c.AddSensitivePaths(ctx, hash, []string{"task.env.NOPE"})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.Code != CodeBadRequest || !strings.Contains(err.Error(), "task.env.NOPE") {
		t.Errorf("AddSensitivePaths of a path not in the spec: %v", err)
	}
	if _, err := c.AddSensitivePaths(ctx, schema.HashBytes([]byte("x")), []string{"a"}); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("AddSensitivePaths of a spec not stored: %v", err)
	}
	if _, err := c.SensitivePaths(ctx, "sha256:abc"); err == nil || !strings.Contains(err.Error(), "invalid spec hash") {
		t.Errorf("SensitivePaths of a bad hash: %v", err)
	}
	if status, code, _ := h.raw(t, http.MethodPost, "/v1/specs/sha256:abc/sensitive", "tok", `{"paths":["a"]}`); status != http.StatusBadRequest || code != CodeBadRequest {
		t.Errorf("POST with a bad hash = %d %s", status, code)
	}
	if status, code, _ := h.raw(t, http.MethodPost, "/v1/specs/"+hash+"/sensitive", "tok", `{"paths":`); status != http.StatusBadRequest || code != CodeBadRequest {
		t.Errorf("POST with a cut body = %d %s", status, code)
	}
	if status, _, _ := h.raw(t, http.MethodGet, "/v1/specs/"+hash+"/sensitive", "", ""); status != http.StatusUnauthorized {
		t.Errorf("GET without the token = %d", status)
	}
}

package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/muster-dev/muster/state"
)

func TestToken(t *testing.T) {
	const token = "s3cret-token"
	h := newHarness(t, token, nil)
	ctx := ctxT(t)
	addr := h.srv.Listener.Addr().String()

	for _, tok := range []string{"", "wrong", token + "x"} {
		c := NewClient(addr, tok)
		defer c.Close()
		calls := map[string]func() error{
			"Jobs": func() error { _, err := c.Jobs(ctx); return err },
			"Info": func() error { _, err := c.Info(ctx); return err },
			"Events": func() error {
				_, err := c.Events(ctx, "", "")
				return err
			},
			"Document": func() error {
				_, err := c.Document(ctx, "sha256:"+strings.Repeat("0", 64))
				return err
			},
			"PutDocument": func() error {
				_, _, err := c.PutDocument(ctx, strings.NewReader("doc"))
				return err
			},
		}
		for name, call := range calls {
			err := call()
			var apiErr *Error
			if !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Code != CodeUnauthorized {
				t.Errorf("%s with token %q: %v, want unauthorized", name, tok, err)
				continue
			}
			if !strings.Contains(err.Error(), "MUSTER_TOKEN") {
				t.Errorf("%s with token %q: %q does not mention MUSTER_TOKEN", name, tok, err)
			}
			if errors.Is(err, state.ErrNotFound) || errors.Is(err, state.ErrConflict) {
				t.Errorf("%s: unauthorized error matches a state error", name)
			}
		}
	}

	if _, err := h.client.Jobs(ctx); err != nil {
		t.Fatalf("Jobs with the right token: %v", err)
	}
	if _, _, err := h.client.PutDocument(ctx, strings.NewReader("doc")); err != nil {
		t.Fatalf("PutDocument with the right token: %v", err)
	}

	// Unknown routes need the token too, and 401s ask for it.
	req, _ := http.NewRequest("GET", h.srv.URL+"/v1/nothing", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("unknown route without a token = %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	for _, auth := range []string{"Basic " + token, "Bearer", token} {
		if status, code, _ := h.rawAuth(t, auth); status != http.StatusUnauthorized || code != CodeUnauthorized {
			t.Errorf("Authorization %q = %d %s, want 401 unauthorized", auth, status, code)
		}
	}
	if status, _, _ := h.rawAuth(t, "bearer "+token); status != http.StatusOK {
		t.Errorf("lowercase bearer scheme = %d, want 200", status)
	}
}

// rawAuth sends GET /v1/jobs with an Authorization header as given.
func (h *harness) rawAuth(t *testing.T, auth string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.srv.URL+"/v1/jobs", nil)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	e := readError(&http.Response{StatusCode: resp.StatusCode, Body: io.NopCloser(bytes.NewReader(b))})
	return resp.StatusCode, e.Code, string(b)
}

func TestClientAddress(t *testing.T) {
	h := newHarness(t, "", nil)
	ctx := ctxT(t)
	hostPort := h.srv.Listener.Addr().String()
	for _, addr := range []string{hostPort, "http://" + hostPort, "http://" + hostPort + "/"} {
		c := NewClient(addr, "")
		if _, err := c.Info(ctx); err != nil {
			t.Errorf("Info via %q: %v", addr, err)
		}
		c.Close()
	}
	for _, addr := range []string{"", "ftp://" + hostPort, "http://", "http://[::1"} {
		c := NewClient(addr, "")
		if _, err := c.Info(ctx); err == nil || !strings.Contains(err.Error(), "invalid control plane address") {
			t.Errorf("Info via %q: %v, want an invalid address error", addr, err)
		}
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := NewClient(addr, "")
	defer c.Close()
	ctx := ctxT(t)
	calls := map[string]func() error{
		"Jobs":     func() error { _, err := c.Jobs(ctx); return err },
		"Events":   func() error { _, err := c.Events(ctx, "", ""); return err },
		"Document": func() error { _, err := c.Document(ctx, "sha256:"+strings.Repeat("0", 64)); return err },
	}
	for name, call := range calls {
		err := call()
		want := fmt.Sprintf("control plane at %s: ", addr)
		if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s on a closed port: %v, want it to start with %q and say refused", name, err, want)
		}
		var apiErr *Error
		if errors.As(err, &apiErr) {
			t.Errorf("%s on a closed port is an *Error: %v", name, err)
		}
	}
}

func TestClientChecksInput(t *testing.T) {
	c := NewClient("127.0.0.1:1", "") // never reached
	ctx := ctxT(t)
	tests := map[string]func() error{
		"Job: empty namespace": func() error { _, err := c.Job(ctx, "", "web"); return err },
		"Job: bad name":        func() error { _, err := c.Job(ctx, "default", "a/b"); return err },
		"Spec: bad hash":       func() error { _, err := c.Spec(ctx, "abc"); return err },
		"Document: empty hash": func() error { _, err := c.Document(ctx, ""); return err },
		"ReadLog: empty id":    func() error { _, err := c.ReadLog(ctx, "default", "web", "", "stdout", 0); return err },
		"PutNode: no id":       func() error { _, err := c.PutNode(ctx, state.Node{}); return err },
		"Stop: bad name":       func() error { _, err := c.Stop(ctx, "default", "Web"); return err },
	}
	for name, call := range tests {
		err := call()
		if err == nil || !strings.HasPrefix(err.Error(), "invalid ") {
			t.Errorf("%s: %v, want an invalid input error before any request", name, err)
		}
	}
}

func TestErrorIs(t *testing.T) {
	tests := []struct {
		err                *Error
		notFound, conflict bool
		msg                string
	}{
		{&Error{Status: 404, Code: CodeNotFound, Message: "job default/web not found"}, true, false, "job default/web not found"},
		{&Error{Status: 409, Code: CodeConflict, Message: "conflict on job default/web"}, false, true, "conflict on job default/web"},
		{&Error{Status: 404, Code: CodeUnknownRoute, Message: "no route GET /v1/x"}, false, false, "no route GET /v1/x"},
		{&Error{Status: 404, Message: "404 Not Found"}, false, false, "404 Not Found"},
		{&Error{Status: 400, Code: CodeBadRequest, Message: "invalid state"}, false, false, "invalid state"},
		{&Error{Status: 401, Code: CodeUnauthorized, Message: "wrong API token"}, false, false, "wrong API token: set MUSTER_TOKEN to the control plane's API token"},
		{&Error{Status: 502}, false, false, "Bad Gateway"},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", tt.err)
		if got := errors.Is(err, state.ErrNotFound); got != tt.notFound {
			t.Errorf("%+v: Is(ErrNotFound) = %v", tt.err, got)
		}
		if got := errors.Is(err, state.ErrConflict); got != tt.conflict {
			t.Errorf("%+v: Is(ErrConflict) = %v", tt.err, got)
		}
		if got := tt.err.Error(); got != tt.msg {
			t.Errorf("%+v: Error() = %q, want %q", tt.err, got, tt.msg)
		}
	}
}

func TestReadErrorNotMuster(t *testing.T) {
	resp := &http.Response{StatusCode: 502, Status: "502 Bad Gateway", Body: io.NopCloser(strings.NewReader("<html>upstream down\n<p>details</p></html>"))}
	e := readError(resp)
	if e.Code != "" || e.Status != 502 || e.Message != "502 Bad Gateway: <html>upstream down" {
		t.Errorf("readError of a proxy page = %#v", e)
	}
}

func TestIsLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:4747", true},
		{"127.1.2.3:0", true},
		{"[::1]:4747", true},
		{"localhost:4747", true},
		{"LocalHost:4747", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"[::1]", true},
		{"localhost", true},
		{"[::ffff:127.0.0.1]:4747", true},
		{"", false},
		{":4747", false},
		{"0.0.0.0:4747", false},
		{"[::]:4747", false},
		{"10.0.0.1:4747", false},
		{"192.168.1.10:80", false},
		{"[2001:db8::1]:4747", false},
		{"example.com:4747", false},
		{"localhost.example.com:4747", false},
		{"128.0.0.1:4747", false},
	}
	for _, tt := range tests {
		if got := IsLoopback(tt.addr); got != tt.want {
			t.Errorf("IsLoopback(%q) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

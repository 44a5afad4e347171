package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// clock is a settable time for limiters.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// limitedServer is a server requiring bootToken whose failed
// authentications are limited to burst, one more every minute of clk.
func limitedServer(t *testing.T, burst int, clk *clock) http.Handler {
	h := newHarness(t, "", nil)
	fails := newFailLimiter(burst, time.Minute)
	fails.now = clk.now
	return (&server{b: h.store, c: h.ctl, maxDocument: maxDocumentBody, fails: fails}).handler(bootToken)
}

// send serves GET /v1/info from client ip with token and returns the
// response.
func send(h http.Handler, ip, token string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", "/v1/info", nil)
	r.RemoteAddr = ip + ":40000"
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestFailedAuthLimit(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := limitedServer(t, 3, clk)
	const client, other = "192.0.2.1", "192.0.2.2"
	steps := []struct {
		name, ip, token string
		advance         time.Duration
		status          int
		retryAfter      string
	}{
		{"success is not counted", client, bootToken, 0, 200, ""},
		{"first failure", client, "wrong", 0, 401, ""},
		{"no token is a failure", client, "", 0, 401, ""},
		{"third failure", client, "wrong", 0, 401, ""},
		{"limited", client, "wrong", 0, 429, "60"},
		{"the right token waits too", client, bootToken, 0, 429, "60"},
		{"another client is not limited", other, "wrong", 0, 401, ""},
		{"half the refill", client, "wrong", 30 * time.Second, 429, "30"},
		{"one failure back", client, "wrong", 30 * time.Second, 401, ""},
		{"and used", client, bootToken, 0, 429, "60"},
		{"all back", client, bootToken, 3 * time.Minute, 200, ""},
	}
	for _, s := range steps {
		clk.add(s.advance)
		w := send(h, s.ip, s.token)
		if w.Code != s.status || w.Header().Get("Retry-After") != s.retryAfter {
			t.Fatalf("%s: %d Retry-After %q %s, want %d Retry-After %q", s.name, w.Code, w.Header().Get("Retry-After"), w.Body, s.status, s.retryAfter)
		}
		if s.status == 429 && !strings.Contains(w.Body.String(), `"code":"rate_limited"`) {
			t.Errorf("%s: body %s, want code rate_limited", s.name, w.Body)
		}
	}
}

// TestSuccessesNotLimited checks that many authenticated requests from one
// client never count as failures.
func TestSuccessesNotLimited(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	h := limitedServer(t, 1, clk)
	for i := 0; i < 200; i++ {
		if w := send(h, "192.0.2.1", bootToken); w.Code != 200 {
			t.Fatalf("request %d: %d %s", i, w.Code, w.Body)
		}
	}
	if w := send(h, "192.0.2.1", "wrong"); w.Code != 401 {
		t.Fatalf("first failure after 200 successes: %d, want 401", w.Code)
	}
}

// TestFailLimiterForgets checks that the limiter does not remember more
// clients than it must.
func TestFailLimiterForgets(t *testing.T) {
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newFailLimiter(2, time.Second)
	l.now = clk.now
	for i := 0; i < maxClients; i++ {
		l.fail("client-" + strconv.Itoa(i))
	}
	clk.add(2 * time.Second)
	l.fail("new")
	if n := len(l.clients); n != 1 {
		t.Errorf("%d clients remembered after the others refilled, want 1", n)
	}
}

func TestStreamLimit(t *testing.T) {
	h := newHarness(t, "", nil)
	srv := &server{b: h.store, c: h.ctl, maxDocument: maxDocumentBody, streams: newStreamLimiter(2)}
	ts := httptest.NewServer(srv.handler(""))
	defer ts.Close()
	c := NewClient(ts.URL, "")
	defer c.Close()

	ctx := ctxT(t)
	first, cancelFirst := context.WithCancel(ctx)
	defer cancelFirst()
	for i := 0; i < 2; i++ {
		if _, err := c.Events(first, "", ""); err != nil {
			t.Fatalf("stream %d: %v", i+1, err)
		}
	}
	resp, err := http.Get(ts.URL + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream = %d (Retry-After %q), want 429", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Other routes are not limited.
	if _, err := c.Jobs(ctx); err != nil {
		t.Fatalf("Jobs while the streams are full: %v", err)
	}
	// Once the streams end, the client may follow again.
	cancelFirst()
	wait.Until(t, 10*time.Second, "the streams to end", func() bool {
		srv.streams.mu.Lock()
		defer srv.streams.mu.Unlock()
		return len(srv.streams.open) == 0
	})
	again, cancelAgain := context.WithCancel(ctx)
	defer cancelAgain()
	if _, err := c.Events(again, "", ""); err != nil {
		t.Fatalf("stream after the others ended: %v", err)
	}
}

func TestHeaderLimit(t *testing.T) {
	h := newHarness(t, "", nil)
	ts := httptest.NewUnstartedServer(NewServer(h.store, h.ctl, ""))
	Limit(ts.Config)
	ts.Start()
	defer ts.Close()
	for _, c := range []struct {
		size   int
		status int
	}{
		{1 << 10, http.StatusOK},
		{MaxHeaderBytes + 8<<10, http.StatusRequestHeaderFieldsTooLarge},
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/v1/info", nil)
		req.Header.Set("X-Pad", strings.Repeat("a", c.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("header of %d bytes = %d, want %d", c.size, resp.StatusCode, c.status)
		}
	}
	if ts.Config.ReadHeaderTimeout != ReadHeaderTimeout {
		t.Errorf("ReadHeaderTimeout = %v", ts.Config.ReadHeaderTimeout)
	}
}

// TestBodyLimits checks that every route that reads a JSON body refuses
// one beyond maxJSONBody (documents: TestDocumentTooLarge).
func TestBodyLimits(t *testing.T) {
	h := newHarness(t, bootToken, nil)
	hash := "sha256:" + strings.Repeat("a", 64)
	big := `{"x":"` + strings.Repeat("a", maxJSONBody) + `"}`
	for _, route := range []struct{ method, path string }{
		{"POST", "/v1/jobs/default/web/versions"},
		{"POST", "/v1/jobs/default/web/rollout"},
		{"POST", "/v1/specs"},
		{"POST", "/v1/specs/" + hash + "/sensitive"},
		{"PUT", "/v1/nodes/n1"},
		{"POST", "/v1/tokens"},
	} {
		status, code, body := h.raw(t, route.method, route.path, bootToken, big)
		if status != http.StatusRequestEntityTooLarge || code != CodeTooLarge {
			t.Errorf("%s %s with %d bytes = %d %.200s, want 413 too_large", route.method, route.path, len(big), status, body)
		}
	}
}

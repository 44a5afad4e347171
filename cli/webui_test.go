package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// webUI is a muster dev whose web UI a test reads.
type webUI struct {
	*musterCLI
	base  string // http://127.0.0.1:port
	token string // the bootstrap token dev made
	link  string // the banner's web UI link, which logs a browser in
}

// startWebUI starts muster dev and reads its address and token.
func startWebUI(t *testing.T) *webUI {
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	p := c.start(apiRE, "dev", "--listen", "127.0.0.1:0")
	addr := p.waitFor(apiRE)
	link := p.waitFor(`web UI: (\S+)`)
	b, err := os.ReadFile(filepath.Join(c.dir, ".muster", devFile))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &rec); err != nil || rec.Token == "" {
		t.Fatalf("no token in %s: %v", devFile, err)
	}
	if want := "http://" + addr + "/ui/?token=" + rec.Token; link != want {
		t.Errorf("the banner's web UI link is %s, want %s", link, want)
	}
	return &webUI{musterCLI: c, base: "http://" + addr, token: rec.Token, link: link}
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{
	Timeout:       20 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// get sends a GET of path with the cookies given and returns the answer
// and its body.
func (u *webUI) get(path string, cookies ...*http.Cookie) (*http.Response, string) {
	u.t.Helper()
	req, _ := http.NewRequest("GET", u.base+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return u.do(req)
}

func (u *webUI) do(req *http.Request) (*http.Response, string) {
	u.t.Helper()
	resp, err := noRedirects.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login posts token to the login form and returns the session cookie, nil
// when the login was refused.
func (u *webUI) login(token string) (*http.Response, *http.Cookie) {
	u.t.Helper()
	req, _ := http.NewRequest("POST", u.base+"/ui/login", strings.NewReader(url.Values{"token": {token}, "next": {"/ui/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, _ := u.do(req)
	for _, c := range resp.Cookies() {
		if c.Name == "muster_session" && c.Value != "" {
			return resp, c
		}
	}
	return resp, nil
}

// TestWebUIBoundaries tries to read the UI without a token, with a bad
// one, with one of another namespace, across sites and around its proxy.
func TestWebUIBoundaries(t *testing.T) {
	t.Parallel()
	u := startWebUI(t)
	u.ok("apply", "--auto-approve", u.write("hello.yaml", "name: hello\ntask: {engine: exec, cmd: [echo, hi]}\n"))
	u.waitState("hello", "completed")
	team := strings.TrimSpace(u.ok("token", "create", "--namespace", "team", "--role", "read").stdout)

	// Nothing without a session: pages send the browser to log in, the
	// proxy answers 401, the static files alone are served.
	for _, p := range []string{"/ui/", "/ui/jobs/default/hello", "/ui/nodes"} {
		if resp, _ := u.get(p); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/ui/login?next=") {
			t.Errorf("GET %s without a session: %d %s, want 303 to the login", p, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if resp, body := u.get("/ui/api/v1/jobs"); resp.StatusCode != http.StatusUnauthorized || strings.Contains(body, "hello") {
		t.Errorf("the proxy without a session: %d %s", resp.StatusCode, body)
	}
	if resp, _ := u.get("/ui/static/ui.js"); resp.StatusCode != http.StatusOK {
		t.Errorf("static script: %d", resp.StatusCode)
	}

	// A wrong token gets no session.
	if resp, c := u.login("mst_nope_nope"); resp.StatusCode != http.StatusUnauthorized || c != nil {
		t.Errorf("login with a wrong token: %d, cookie %v", resp.StatusCode, c)
	}

	// The session cookie is for the UI only, never for a script, never
	// sent by another site.
	resp, admin := u.login(u.token)
	if admin == nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login with the bootstrap token: %d", resp.StatusCode)
	}
	if !admin.HttpOnly || admin.SameSite != http.SameSiteStrictMode || admin.Path != "/ui/" || admin.MaxAge != 0 || !admin.Expires.IsZero() {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/ui/, ending with the browser session", admin)
	}
	if _, body := u.get("/ui/", admin); !strings.Contains(body, `data-job="default/hello"`) {
		t.Errorf("the jobs page does not list default/hello:\n%s", body)
	}

	if _, body := u.get("/ui/jobs/default/hello", admin); !strings.Contains(body, "<dt>Type</dt><dd>batch</dd>") || !strings.Contains(body, "<dt>Engine</dt><dd>exec</dd>") {
		t.Errorf("the job page does not show the type and engine of its spec:\n%s", body)
	}

	// A token of another namespace sees none of default's jobs.
	_, teamCookie := u.login(team)
	if teamCookie == nil {
		t.Fatal("login with a read token of namespace team refused")
	}
	if _, body := u.get("/ui/", teamCookie); strings.Contains(body, "hello") {
		t.Errorf("a token of namespace team lists default/hello:\n%s", body)
	}
	if resp, body := u.get("/ui/jobs/default/hello", teamCookie); resp.StatusCode != http.StatusForbidden || strings.Contains(body, "echo") {
		t.Errorf("a token of namespace team reads default/hello: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := u.get("/ui/api/v1/events?namespace=default", teamCookie); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a token of namespace team follows default's events: %d", resp.StatusCode)
	}

	// The proxy passes reads of the pages' routes only.
	if resp, _ := u.get("/ui/api/v1/tokens", admin); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the proxy passes GET /v1/tokens: %d", resp.StatusCode)
	}
	stop, _ := http.NewRequest("POST", u.base+"/ui/api/v1/jobs/default/hello/stop", nil)
	stop.AddCookie(admin)
	if resp, _ := u.do(stop); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("the proxy passes POST: %d", resp.StatusCode)
	}

	// Another site cannot log the browser in, nor out.
	cross, _ := http.NewRequest("POST", u.base+"/ui/login", strings.NewReader("token="+url.QueryEscape(team)))
	cross.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cross.Header.Set("Origin", "https://evil.example")
	cross.Header.Set("Sec-Fetch-Site", "cross-site")
	if resp, _ := u.do(cross); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) > 0 {
		t.Errorf("a cross-site login: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}

	// After a login, the browser goes to a page of the UI, never elsewhere.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/ui//evil.example", "/v1/jobs"} {
		req, _ := http.NewRequest("POST", u.base+"/ui/login", strings.NewReader(url.Values{"token": {u.token}, "next": {next}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if resp, _ := u.do(req); resp.Header.Get("Location") != "/ui/" {
			t.Errorf("login with next=%s goes to %q", next, resp.Header.Get("Location"))
		}
	}

	// Pages may not be framed, and run only the UI's own script.
	resp, _ = u.get("/ui/", admin)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// A link with a token logs in and drops the token from the address.
	resp, _ = u.get("/ui/jobs/default/hello?token=" + url.QueryEscape(u.token))
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/jobs/default/hello" || len(resp.Cookies()) != 1 {
		t.Errorf("a link with the token: %d to %q, cookies %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	if resp, _ := u.get("/ui/?token=mst_nope_nope"); resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("a link with a wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}

	// Logging out ends the session in the browser.
	out, _ := http.NewRequest("POST", u.base+"/ui/logout", nil)
	out.AddCookie(admin)
	if resp, _ := u.do(out); len(resp.Cookies()) == 0 || resp.Cookies()[0].MaxAge >= 0 {
		t.Errorf("logout does not clear the cookie: %v", resp.Cookies())
	}
}

// TestWebUIRevokedToken sends the browser of a revoked token to log in.
func TestWebUIRevokedToken(t *testing.T) {
	t.Parallel()
	u := startWebUI(t)
	created := u.ok("token", "create", "--namespace", "default", "--role", "read", "-o", "json").stdout
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(created), &tok); err != nil {
		t.Fatalf("%v: %s", err, created)
	}
	_, c := u.login(tok.Token)
	if resp, _ := u.get("/ui/", c); resp.StatusCode != http.StatusOK {
		t.Fatalf("jobs page: %d", resp.StatusCode)
	}
	u.ok("token", "revoke", tok.ID)
	wait.For(t, 10*time.Second, "the revoked session to be sent to log in", func() (string, bool) {
		resp, _ := u.get("/ui/", c)
		return resp.Status, resp.StatusCode == http.StatusSeeOther
	})
}

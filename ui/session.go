package ui

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/muster-dev/muster/api"
)

// The session: a login stores the token in a cookie that lives as long as
// the browser session (no expiry), is sent only to /ui/, only over the
// same site, and is never readable by a script. Its value is the token,
// base64url-encoded so that any bootstrap token fits a cookie.
const (
	cookieName = "muster_session"
	cookiePath = "/ui/"
)

// tokenOf returns the token of r's session, "" when it has none. A
// client that sends "Authorization: Bearer <token>" itself (a script, a
// proxy in front) needs no session.
func tokenOf(r *http.Request) string {
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(token)
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return ""
	}
	return string(b)
}

// hasSession says whether r carries a session cookie, which logging out
// ends.
func hasSession(r *http.Request) bool {
	_, err := r.Cookie(cookieName)
	return err == nil
}

// client returns a client of the API that acts with the token of r's
// session, as r's client.
func (u *ui) client(r *http.Request) *api.Client {
	return api.NewInProcessClient(u.api, tokenOf(r), r.RemoteAddr)
}

// setSession stores token in the session cookie; "" ends the session.
func setSession(w http.ResponseWriter, r *http.Request, token string) {
	c := &http.Cookie{
		Name:     cookieName,
		Value:    base64.RawURLEncoding.EncodeToString([]byte(token)),
		Path:     cookiePath,
		HttpOnly: true,
		Secure:   r.TLS != nil,
		SameSite: http.SameSiteStrictMode,
	}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// loginView is what the login page shows.
type loginView struct {
	Next    string
	Problem string
}

// loginForm shows the login form.
func (u *ui) loginForm(w http.ResponseWriter, r *http.Request) {
	u.pages.render(w, http.StatusOK, "login", pageData{Title: "Log in", Body: loginView{Next: nextPage(r.URL.Query().Get("next"))}})
}

// login checks the token given and starts a session with it.
func (u *ui) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	token := strings.TrimSpace(r.PostFormValue("token"))
	next := nextPage(r.PostFormValue("next"))
	problem := ""
	status := http.StatusOK
	if token == "" {
		problem, status = "Give a token.", http.StatusBadRequest
	} else if err := checkToken(r.Context(), u.api, token, r.RemoteAddr); err != nil {
		problem, status = loginProblem(err)
	}
	if problem != "" {
		u.pages.render(w, status, "login", pageData{Title: "Log in", Body: loginView{Next: next, Problem: problem}})
		return
	}
	setSession(w, r, token)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// checkToken asks the API whether token authenticates.
func checkToken(ctx context.Context, h http.Handler, token, remoteAddr string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := api.NewInProcessClient(h, token, remoteAddr).Info(ctx)
	return err
}

// loginProblem says why a login failed, and with which status.
func loginProblem(err error) (string, int) {
	var ae *api.Error
	if !errors.As(err, &ae) {
		return "The control plane did not answer: " + err.Error(), http.StatusServiceUnavailable
	}
	switch ae.Status {
	case http.StatusUnauthorized:
		return "That token is not valid: unknown, revoked or expired.", http.StatusUnauthorized
	case http.StatusTooManyRequests:
		return "Too many failed logins from here: wait a minute and try again.", http.StatusTooManyRequests
	}
	return fmt.Sprintf("The control plane refused: %s", ae.Message), ae.Status
}

// tokenInURL logs in with the token of a link (/ui/...?token=T), as a
// script or a terminal may hand one to a browser, and sends the browser to
// the same page without it, so that the token stays in neither its history
// nor its address bar (pages send no Referer). Other requests pass to h.
func (u *ui) tokenInURL(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		token := strings.TrimSpace(q.Get("token"))
		if r.Method != http.MethodGet || !q.Has("token") || strings.HasPrefix(r.URL.Path, apiPrefix+"/") {
			h.ServeHTTP(w, r)
			return
		}
		q.Del("token")
		next := nextPage(r.URL.Path + "?" + q.Encode())
		if err := checkToken(r.Context(), u.api, token, r.RemoteAddr); token == "" || err != nil {
			problem, status := "Give a token.", http.StatusBadRequest
			if err != nil {
				problem, status = loginProblem(err)
			}
			u.pages.render(w, status, "login", pageData{Title: "Log in", Body: loginView{Next: next, Problem: problem}})
			return
		}
		setSession(w, r, token)
		http.Redirect(w, r, strings.TrimSuffix(next, "?"), http.StatusSeeOther)
	})
}

// logout ends the session.
func (u *ui) logout(w http.ResponseWriter, r *http.Request) {
	setSession(w, r, "")
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// nextPage returns where to go after a login: a page of the UI, never
// another site.
func nextPage(next string) string {
	if !strings.HasPrefix(next, "/ui/") || strings.HasPrefix(next, "/ui//") || strings.ContainsAny(next, "\\\r\n") {
		return "/ui/"
	}
	return next
}

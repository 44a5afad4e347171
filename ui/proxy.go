package ui

import (
	"net/http"
	"strings"
)

// apiPrefix is where the pages' script reads the API: /ui/api/v1/... is
// /v1/... of the API, read with the session's token.
const apiPrefix = "/ui/api"

// proxied says whether the pages read the API path: the event stream, the
// jobs and their logs, and the nodes; no other route of the API is
// reachable through a session.
func proxied(path string) bool {
	return path == "/v1/events" || path == "/v1/jobs" || path == "/v1/nodes" || strings.HasPrefix(path, "/v1/jobs/")
}

// proxy serves a GET of the API with the token of the session: the event
// streams the pages follow and the logs they tail. It passes reads only,
// so a page of another site that makes the browser send the session cookie
// can change nothing, and it never passes the cookie itself on.
func (u *ui) proxy(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, apiPrefix)
	if !proxied(path) {
		u.notFound(w, r)
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = path
	r2.URL.RawPath = strings.TrimPrefix(r.URL.RawPath, apiPrefix)
	r2.RequestURI = r2.URL.RequestURI()
	r2.Header.Del("Cookie")
	r2.Header.Del("Authorization")
	if token := tokenOf(r); token != "" {
		r2.Header.Set("Authorization", "Bearer "+token)
	}
	u.api.ServeHTTP(w, r2)
}

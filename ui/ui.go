// Package ui serves muster's web UI at /ui/: the jobs with their state and
// version, a job's versions with their field diffs, its live rollout and
// executions, an execution with a log tail that follows, and the nodes.
//
// Pages are rendered on the server with html/template from the API itself:
// every page reads through the API handler, in this process, with the
// token of the browser's session (api.NewInProcessClient), so the UI shows
// exactly what that token may read and nothing without one where the API
// needs one. A little plain JavaScript (static/ui.js) follows the API's
// event stream through a read-only proxy (/ui/api/) and refreshes the live
// part of a page as events arrive. Every file is embedded; there is no
// build step.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed templates/*.html static/*
var files embed.FS

// New returns the handler of every path under /ui/. apiHandler is the
// handler of the API (api.NewServer's, unwrapped): the UI reads through it.
func New(apiHandler http.Handler) http.Handler {
	u := &ui{api: apiHandler, pages: parsePages()}
	static, _ := fs.Sub(files, "static")
	mux := http.NewServeMux()
	mux.Handle("GET /ui/{$}", u.page("jobs", u.jobs))
	mux.Handle("GET /ui/jobs/{ns}/{name}", u.page("job", u.job))
	mux.Handle("GET /ui/jobs/{ns}/{name}/executions/{id}", u.page("execution", u.execution))
	mux.Handle("GET /ui/nodes", u.page("nodes", u.nodes))
	mux.HandleFunc("GET /ui/login", u.loginForm)
	mux.HandleFunc("POST /ui/login", u.login)
	mux.HandleFunc("POST /ui/logout", u.logout)
	mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", staticFiles(http.FileServerFS(static))))
	mux.HandleFunc("GET /ui/api/", u.proxy)
	mux.Handle("GET /ui", http.RedirectHandler("/ui/", http.StatusMovedPermanently))
	mux.HandleFunc("GET /ui/", u.notFound)
	return secured(http.NewCrossOriginProtection().Handler(u.tokenInURL(mux)))
}

// ui holds what the handlers need.
type ui struct {
	api   http.Handler
	pages pages
}

// csp lets a page load only the UI's own scripts, styles and images, and
// connect only to its own origin; no page may be framed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secured sets the headers every answer of the UI carries.
func secured(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// staticFiles serves the embedded scripts and styles; they hold nothing
// of any job, so they need no token, and a browser may keep them a while.
func staticFiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

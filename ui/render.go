package ui

import (
	"bytes"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/muster-dev/muster/api"
)

// pages holds each page's template: the layout with the page's own
// "content" and "live" blocks.
type pages map[string]*template.Template

// pageNames are the pages; templates/<name>.html defines each one's blocks.
var pageNames = []string{"jobs", "job", "execution", "nodes", "login", "error"}

// parsePages parses every page with the layout. The templates are
// embedded: a parse error is a bug of this build.
func parsePages() pages {
	p := pages{}
	for _, name := range pageNames {
		p[name] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(files, "templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return p
}

// pageData is what the layout shows around a page's body.
type pageData struct {
	Title string
	// LoggedIn says the browser has a session to end.
	LoggedIn bool
	// Events is the event stream the page follows, "" for none.
	Events string
	Body   any
}

// render answers the page name with data and status. It renders into a
// buffer first, so that a failing template never sends half a page.
func (p pages) render(w http.ResponseWriter, status int, name string, data pageData) {
	p.execute(w, status, name, "layout.html", data)
}

// execute answers the template tmpl of page name.
func (p pages) execute(w http.ResponseWriter, status int, name, tmpl string, data any) {
	var b bytes.Buffer
	if err := p[name].ExecuteTemplate(&b, tmpl, data); err != nil {
		http.Error(w, "render "+name+": "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// loader reads what a page shows through c, the client of the request's
// session; it returns the page's title, the event stream it follows and
// its body.
type loader func(ctx context.Context, r *http.Request, c *api.Client) (pageData, error)

// pageTimeout bounds the reads of one page.
const pageTimeout = 20 * time.Second

// page serves the page name with what load reads. With ?part=live (or
// another block of the page, such as versions) it answers only that
// block, which the script fetches again as events arrive. An API answer
// of 401 sends the browser to log in.
func (u *ui) page(name string, load loader) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), pageTimeout)
		defer cancel()
		part := r.URL.Query().Get("part")
		if part != "" && (part == "content" || u.pages[name].Lookup(part) == nil) {
			u.notFound(w, r)
			return
		}
		data, err := load(ctx, r, u.client(r))
		if err != nil {
			u.fail(w, r, err)
			return
		}
		if part != "" {
			u.pages.execute(w, http.StatusOK, name, part, data.Body)
			return
		}
		data.LoggedIn = hasSession(r)
		u.pages.render(w, http.StatusOK, name, data)
	})
}

// errorView is what the error page shows.
type errorView struct {
	Status  int
	Message string
}

// fail answers err: a login for an API answer of 401, else the error
// page with the API's status.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var ae *api.Error
	if errors.As(err, &ae) {
		status = ae.Status
	}
	if status == http.StatusUnauthorized {
		if r.URL.Query().Get("part") != "" {
			http.Error(w, "log in again", status)
			return
		}
		if tokenOf(r) != "" {
			setSession(w, r, "") // revoked or expired
		}
		http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	u.pages.render(w, status, "error", pageData{Title: http.StatusText(status), LoggedIn: hasSession(r),
		Body: errorView{Status: status, Message: err.Error()}})
}

// notFound answers a path under /ui/ that no page serves.
func (u *ui) notFound(w http.ResponseWriter, r *http.Request) {
	u.pages.render(w, http.StatusNotFound, "error", pageData{Title: "Not found", LoggedIn: hasSession(r),
		Body: errorView{Status: http.StatusNotFound, Message: "No page " + r.URL.Path + " in the muster UI."}})
}

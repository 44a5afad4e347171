package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/muster-dev/muster/internal/scrape"
)

// TestInstrument serves requests through the middleware over a
// ServeMux and checks the labels each is counted and timed under: the
// matched pattern without its method, unmatched, the status written (or
// the 200 of a handler that wrote none), and "other" for a made-up method.
func TestInstrument(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/jobs/{ns}/{name}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("name"))
	})
	mux.HandleFunc("POST /v1/specs", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /v1/events", func(w http.ResponseWriter, r *http.Request) {
		// A stream: no deadline, flushed before anything is written.
		if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
			http.Error(w, "the response controller does not reach the connection: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.(http.Flusher).Flush()
	})
	mux.HandleFunc("GET /v1/nothing", func(http.ResponseWriter, *http.Request) {})
	route := func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		return pattern
	}
	m := New(openStore(t), nil)
	srv := httptest.NewServer(m.Instrument(mux, route))
	t.Cleanup(srv.Close)

	for _, c := range []struct {
		method, path      string
		wantMethod, route string
		code              int
	}{
		{"GET", "/v1/jobs/default/web", "GET", "/v1/jobs/{ns}/{name}", 200},
		{"GET", "/v1/jobs/team-a/api", "GET", "/v1/jobs/{ns}/{name}", 200},
		{"POST", "/v1/specs", "POST", "/v1/specs", 201},
		{"GET", "/v1/events", "GET", "/v1/events", 200},
		{"GET", "/v1/nothing", "GET", "/v1/nothing", 200},
		{"GET", "/v1/no/such/route", "GET", Unmatched, 404},
		{"DELETE", "/v1/specs", "DELETE", Unmatched, 405},
		{"BREW", "/v1/jobs/default/web", "other", Unmatched, 405},
	} {
		before := testutil.ToFloat64(m.http.requests.WithLabelValues(c.wantMethod, c.route, strconv.Itoa(c.code)))
		req, _ := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(""))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s answered %d, want %d", c.method, c.path, resp.StatusCode, c.code)
		}
		after := testutil.ToFloat64(m.http.requests.WithLabelValues(c.wantMethod, c.route, strconv.Itoa(c.code)))
		if after != before+1 {
			t.Errorf("%s %s: muster_http_requests_total{method=%q,route=%q,code=\"%d\"} went from %v to %v, want one more",
				c.method, c.path, c.wantMethod, c.route, c.code, before, after)
		}
	}
	got := gatherHTTP(t, m)
	if n := got.Sum("muster_http_request_duration_seconds", map[string]string{"route": "/v1/jobs/{ns}/{name}"}); n != 2 {
		t.Errorf("requests timed under /v1/jobs/{ns}/{name}: %v, want 2", n)
	}
	if n := got.Sum("muster_http_requests_total", nil); n != 8 {
		t.Errorf("requests counted: %v, want 8", n)
	}
	for _, mf := range got["muster_http_requests_total"].GetMetric() {
		for _, l := range mf.GetLabel() {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), "default") {
				t.Errorf("a raw path is a route label: %v", mf)
			}
		}
	}
}

// gatherHTTP scrapes m and returns the families.
func gatherHTTP(t *testing.T, m *Metrics) scrape.Families {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	f, err := scrape.Parse(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

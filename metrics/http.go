package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Unmatched is the route label of a request that matched no route.
const Unmatched = "unmatched"

// httpMetrics counts and times the API's requests by method and route.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "muster_http_requests_total",
			Help: "API requests answered, by method, route (the API's route pattern, or unmatched) and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "muster_http_request_duration_seconds",
			Help:    "Time to answer an API request, by method and route; event streams and followed logs last as long as their client follows them.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
}

// Describe sends the descriptions of both metrics.
func (h *httpMetrics) Describe(ch chan<- *prometheus.Desc) {
	h.requests.Describe(ch)
	h.duration.Describe(ch)
}

// Collect sends both metrics.
func (h *httpMetrics) Collect(ch chan<- prometheus.Metric) {
	h.requests.Collect(ch)
	h.duration.Collect(ch)
}

// Instrument returns next, counting and timing each of its requests in
// muster_http_requests_total and muster_http_request_duration_seconds.
// route names the route a request matches before it is served: a pattern
// of a ServeMux, such as "GET /v1/jobs/{ns}/{name}" (its method is left
// out of the label), never the raw path, so that the labels stay few;
// "" is Unmatched. A method outside HTTP's own is counted as "other".
func (m *Metrics) Instrument(next http.Handler, route func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		began := time.Now()
		method, rt := methodLabel(r.Method), routeLabel(route(r))
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		m.http.requests.WithLabelValues(method, rt, strconv.Itoa(sw.code())).Inc()
		m.http.duration.WithLabelValues(method, rt).Observe(time.Since(began).Seconds())
	})
}

// routeLabel is the route label of a mux pattern: without its method.
func routeLabel(pattern string) string {
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = strings.TrimSpace(path)
	}
	if pattern == "" {
		return Unmatched
	}
	return pattern
}

// methodLabel is the method label of method: itself for HTTP's own
// methods, "other" for any other, which a client may make up.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// statusWriter remembers the status code of the response.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader remembers the first final status code and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes b on; a response written without a status is a 200.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes a flush on, for event streams.
func (w *statusWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status the response had: 200 when the handler wrote none.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

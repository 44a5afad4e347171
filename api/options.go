package api

import (
	"context"
	"net/http"

	"github.com/muster-dev/muster/plan"
)

// Option adds to what NewServer serves.
type Option func(*options)

// options are what the Options set; the zero value adds nothing.
type options struct {
	// metrics serves GET /metrics; nil: no such route.
	metrics http.Handler
	// instrument wraps the whole API; nil: nothing does.
	instrument func(next http.Handler, route func(*http.Request) string) http.Handler
	// nodeUsage reads what the executions hold on each node; nil: GET
	// /v1/nodes serves the nodes as stored.
	nodeUsage NodeUsage
}

// NodeUsage reads what the executions not yet ended hold on the nodes,
// and returns it by node id.
type NodeUsage func(ctx context.Context) (func(node string) plan.Resources, error)

// WithNodeUsage has GET /v1/nodes serve, beside each node, what its
// executions hold and what is free of what it advertises (NodeView),
// read with usage at each request.
func WithNodeUsage(usage NodeUsage) Option {
	return func(o *options) { o.nodeUsage = usage }
}

// WithMetrics serves GET /metrics with h (Prometheus metrics) to the
// tokens that may read every namespace, as GET /v1/check: a server that
// requires a token answers 401 without one and 403 to a token of one
// namespace, or of another role than read, write or admin.
func WithMetrics(h http.Handler) Option {
	return func(o *options) { o.metrics = h }
}

// WithInstrumentation wraps the whole API, authentication included, in
// wrap, giving it route: the pattern of the API route a request matches
// (such as "GET /v1/jobs/{ns}/{name}"), or "" when none does. The
// patterns are few, unlike paths: metrics may be labelled with them.
func WithInstrumentation(wrap func(next http.Handler, route func(*http.Request) string) http.Handler) Option {
	return func(o *options) { o.instrument = wrap }
}

// optionRoutes are the routes the options add.
func (s *server) optionRoutes() []route {
	if s.metrics == nil {
		return nil
	}
	h := s.metrics
	return []route{{"GET /metrics", readAll, func(w http.ResponseWriter, r *http.Request) error {
		h.ServeHTTP(w, r)
		return nil
	}}}
}

// instrumented returns h wrapped by the instrumentation of the options,
// with the routes of mux; h when there is none.
func (s *server) instrumented(h http.Handler, mux *http.ServeMux) http.Handler {
	if s.instrument == nil {
		return h
	}
	return s.instrument(h, func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		if pattern == "/" {
			return "" // the answer to unknown routes
		}
		return pattern
	})
}

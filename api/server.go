package api

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// NewServer returns the HTTP handler of the API, serving b and c.
//
// When token is not "", every request must carry "Authorization: Bearer
// <token>" or is answered 401: the bootstrap token itself (compared in
// constant time), an admin of every namespace, or a scoped token stored in
// b (when b stores tokens, as *state.Store does: TokenStore), which may do
// what its role allows in its namespace; other requests are answered 403.
// A client that fails to authenticate too often is answered 429 for a
// while. When token is "", every request is served, the token routes
// included. Each client follows at most 16 event streams at once, token
// or not.
//
// Streaming routes (events, documents) clear the connection's write
// deadline and run until the client goes away or the request context ends:
// an http.Server that shuts down should cancel its BaseContext, or
// http.Server.Shutdown waits for open event streams. Limit sets the header
// limits on the http.Server. opts add to what it serves (WithMetrics,
// WithInstrumentation).
func NewServer(b Backend, c Control, token string, opts ...Option) http.Handler {
	s := &server{b: b, c: c, maxDocument: maxDocumentBody}
	for _, o := range opts {
		o(&s.options)
	}
	return s.handler(token)
}

// handler returns the handler of s, requiring token when not "". The
// limits s does not set yet are the defaults.
func (s *server) handler(token string) http.Handler {
	if s.streams == nil {
		s.streams = newStreamLimiter(maxStreams)
	}
	s.tokens, _ = s.b.(tokenAuthority)
	if token != "" {
		s.auth = &authenticator{bootstrap: sha256.Sum256([]byte(token)), tokens: s.tokens, fails: s.fails}
		if s.auth.fails == nil {
			s.auth.fails = newFailLimiter(failBurst, failEvery)
		}
	}
	mux := http.NewServeMux()
	for _, r := range append(s.routes(), s.optionRoutes()...) {
		mux.Handle(r.pattern, guard(r.need, r.h))
	}
	mux.Handle("/", handler(unknownRoute))
	if s.auth == nil {
		return s.instrumented(mux, mux)
	}
	return s.instrumented(s.auth.wrap(mux), mux)
}

// server holds what the handlers serve.
type server struct {
	b Backend
	c Control
	// tokens stores the scoped tokens; nil when b stores none.
	tokens tokenAuthority
	// auth authenticates every request; nil when the server requires no
	// token.
	auth *authenticator
	// streams bounds the event streams of each client; fails the failed
	// authentications.
	streams *streamLimiter
	fails   *failLimiter
	// maxDocument bounds an uploaded document: maxDocumentBody, less in
	// tests.
	maxDocument int64
	// options are what NewServer's Options added.
	options
}

// route is one pattern of the mux, and what its requests need.
type route struct {
	pattern string
	need    access
	h       handler
}

// routes lists every route. Job routes are under /v1/jobs/{ns}/{name}.
// Listing jobs and following every job's events need only read: they
// show what the token's namespace holds.
func (s *server) routes() []route {
	const job = "/" + Version + "/jobs/{ns}/{name}"
	return []route{
		{"GET /" + Version + "/info", anyToken, s.info},
		{"GET /" + Version + "/jobs", readAny, s.jobs},
		{"GET " + job, readJob, s.job},
		{"GET " + job + "/versions", readJob, s.history},
		{"POST " + job + "/versions", writeJob, s.commitVersion},
		{"GET " + job + "/executions", readJob, s.executions},
		{"GET " + job + "/executions/{id}/logs", readJob, s.readLog},
		{"GET " + job + "/rollouts", readJob, s.rollouts},
		{"GET " + job + "/events", readJob, s.jobEvents},
		{"POST " + job + "/rollout", writeJob, s.rollout},
		{"POST " + job + "/promote", writeJob, s.promote},
		{"POST " + job + "/stop", writeJob, s.stop},
		{"GET " + job + "/launches", readJob, s.launches},
		{"POST " + job + "/launch", writeJob, s.launch},
		{"GET /" + Version + "/events", readAny, s.streams.wrap(s.events)},
		{"GET /" + Version + "/specs/{hash}", readAny, s.spec},
		{"GET /" + Version + "/specs", readAny, s.resolveSpec},
		{"POST /" + Version + "/specs", writeAny, s.putSpec},
		{"GET /" + Version + "/specs/{hash}/sensitive", readAny, s.sensitivePaths},
		{"POST /" + Version + "/specs/{hash}/sensitive", writeAny, s.addSensitivePaths},
		{"GET /" + Version + "/nodes", readAny, s.nodes},
		{"PUT /" + Version + "/nodes/{id}", adminAll, s.putNode},
		{"POST /" + Version + "/nodes/{id}/join", joinNode, s.joinNode},
		{"POST /" + Version + "/documents", writeAny, s.putDocument},
		{"GET /" + Version + "/documents/{hash}", readAny, s.document},
		{"GET /" + Version + "/documents", readAny, s.resolveDocument},
		{"GET /" + Version + "/check", readAll, s.check},
		{"POST /" + Version + "/tokens", adminAny, s.createToken},
		{"GET /" + Version + "/tokens", adminAny, s.listTokens},
		{"DELETE /" + Version + "/tokens/{id}", adminAny, s.revokeToken},
		{"PUT /" + Version + "/secrets/{ns}/{name}", writeJob, s.putSecret},
		{"GET /" + Version + "/secrets", readAny, s.listSecrets},
		{"DELETE /" + Version + "/secrets/{ns}/{name}", writeJob, s.deleteSecret},
	}
}

// handler is an http.Handler that answers a returned error as a JSON error
// response. A handler that has started its response returns nil.
type handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP calls h and answers its error.
func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, err)
	}
}

// unknownRoute answers every request no route serves.
func unknownRoute(w http.ResponseWriter, r *http.Request) error {
	writeErrorCode(w, http.StatusNotFound, CodeUnknownRoute,
		fmt.Sprintf("no route %s %s in muster API %s: is the control plane of another version?", r.Method, r.URL.Path, Version))
	return nil
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error(), Code: CodeInternal})
	}
	w.Header().Set("Content-Type", contentJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeBytes answers b as they are, with a content type.
func writeBytes(w http.ResponseWriter, contentType string, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// readJSON decodes the request body, at most maxJSONBody bytes of one
// JSON value, into v.
func readJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			return err
		case errors.Is(err, io.EOF):
			return badf("empty request body: want a JSON object")
		}
		return badf("invalid request body: %v", err)
	}
	if err := dec.Decode(new(json.RawMessage)); err != io.EOF {
		return badf("invalid request body: want one JSON value")
	}
	return nil
}

// readBody reads the request body, at most maxJSONBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
}

// list returns s, or an empty slice instead of nil, so that lists encode
// as [] rather than null.
func list[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// byteSize formats a body limit.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

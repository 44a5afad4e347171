package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// NewServer returns the HTTP handler of the API, serving b and c.
//
// When token is not "", every request must carry "Authorization: Bearer
// <token>" (compared in constant time) or is answered 401. Streaming
// routes (events, documents) clear the connection's write deadline and run
// until the client goes away or the request context ends: an http.Server
// that shuts down should cancel its BaseContext, or http.Server.Shutdown
// waits for open event streams.
func NewServer(b Backend, c Control, token string) http.Handler {
	return (&server{b: b, c: c, maxDocument: maxDocumentBody}).handler(token)
}

// handler returns the handler of s, requiring token when not "".
func (s *server) handler(token string) http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.routes() {
		mux.Handle(r.pattern, r.h)
	}
	mux.Handle("/", handler(unknownRoute))
	if token == "" {
		return mux
	}
	return requireToken(token, mux)
}

// server holds what the handlers serve.
type server struct {
	b Backend
	c Control
	// maxDocument bounds an uploaded document: maxDocumentBody, less in
	// tests.
	maxDocument int64
}

// route is one pattern of the mux.
type route struct {
	pattern string
	h       handler
}

// routes lists every route. Job routes are under /v1/jobs/{ns}/{name}.
func (s *server) routes() []route {
	const job = "/" + Version + "/jobs/{ns}/{name}"
	return []route{
		{"GET /" + Version + "/info", s.info},
		{"GET /" + Version + "/jobs", s.jobs},
		{"GET " + job, s.job},
		{"GET " + job + "/versions", s.history},
		{"POST " + job + "/versions", s.commitVersion},
		{"GET " + job + "/executions", s.executions},
		{"GET " + job + "/executions/{id}/logs", s.readLog},
		{"GET " + job + "/rollouts", s.rollouts},
		{"GET " + job + "/events", s.jobEvents},
		{"POST " + job + "/rollout", s.rollout},
		{"POST " + job + "/promote", s.promote},
		{"POST " + job + "/stop", s.stop},
		{"GET /" + Version + "/events", s.events},
		{"GET /" + Version + "/specs/{hash}", s.spec},
		{"GET /" + Version + "/specs", s.resolveSpec},
		{"POST /" + Version + "/specs", s.putSpec},
		{"GET /" + Version + "/specs/{hash}/sensitive", s.sensitivePaths},
		{"POST /" + Version + "/specs/{hash}/sensitive", s.addSensitivePaths},
		{"GET /" + Version + "/nodes", s.nodes},
		{"PUT /" + Version + "/nodes/{id}", s.putNode},
		{"POST /" + Version + "/documents", s.putDocument},
		{"GET /" + Version + "/documents/{hash}", s.document},
		{"GET /" + Version + "/documents", s.resolveDocument},
		{"GET /" + Version + "/check", s.check},
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

// requireToken lets through only requests that carry the bearer token.
// Both sides are hashed first, so that the comparison takes the same time
// whatever the length of the given token.
func requireToken(token string, next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, given, ok := strings.Cut(auth, " ")
		if auth == "" {
			writeErrorCode(w, http.StatusUnauthorized, CodeUnauthorized, "this control plane requires an API token")
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(given)))
		if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			writeErrorCode(w, http.StatusUnauthorized, CodeUnauthorized, "wrong API token")
			return
		}
		next.ServeHTTP(w, r)
	})
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

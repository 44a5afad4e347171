package api

import (
	"log/slog"
	"net/http"
	"time"
)

// Logged serves h and logs every request it answered: method, path,
// status and time taken; answers of 500 and above as errors, of 400 and
// above as warnings, the rest at debug level (event streams and polls
// would drown the log). A nil l logs nothing.
func Logged(h http.Handler, l *slog.Logger) http.Handler {
	if l == nil {
		return h
	}
	l = l.With("component", "api")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		level := slog.LevelDebug
		switch {
		case sw.status >= 500:
			level = slog.LevelError
		case sw.status >= 400:
			level = slog.LevelWarn
		}
		l.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "took", time.Since(start))
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Flush passes a flush on, for event streams.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

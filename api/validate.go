package api

import (
	"fmt"
	"strconv"

	"github.com/muster-dev/muster/state"
)

// The checks below are those of package state, made *badRequest (400):
// the client runs them before it builds a URL, the server before it reads a
// body. What the Backend itself finds malformed matches state.ErrInvalid
// and is answered 400 too.

// badf returns a *badRequest.
func badf(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// checkJobRef validates a job's namespace and name (state.CheckJob).
func checkJobRef(ns, name string) error { return bad(state.CheckJob(ns, name)) }

// checkExecutionID validates an execution id (state.CheckExecutionID).
func checkExecutionID(id string) error { return bad(state.CheckExecutionID(id)) }

// checkHash validates a full spec or document hash (state.CheckHash).
func checkHash(what, h string) error { return bad(state.CheckHash(what, h)) }

// bad turns a state input error into a *badRequest; nil stays nil.
func bad(err error) error {
	if err == nil {
		return nil
	}
	return &badRequest{msg: err.Error()}
}

// checkStream validates a log stream name; "" means stdout.
func checkStream(s string) (string, error) {
	switch s {
	case "":
		return "stdout", nil
	case "stdout", "stderr":
		return s, nil
	}
	return "", badf("invalid log stream %q: want stdout or stderr", s)
}

// parseOffset parses a log offset; "" means 0.
func parseOffset(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, badf("invalid log offset %q: want a byte offset, 0 or more", s)
	}
	return n, nil
}

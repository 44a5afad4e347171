package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/muster-dev/muster/state"
)

// The codes of an error response, the "code" member of its JSON body.
const (
	// CodeNotFound (404) says a job, version, spec, node, execution or
	// document is not stored. The client's errors match state.ErrNotFound.
	CodeNotFound = "not_found"
	// CodeConflict (409) says a compare-and-set write lost. The client's
	// errors match state.ErrConflict.
	CodeConflict = "conflict"
	// CodeBadRequest (400) says the request itself is wrong: a malformed
	// name, hash, query or body.
	CodeBadRequest = "bad_request"
	// CodeUnauthorized (401) says the request lacks the right bearer token.
	CodeUnauthorized = "unauthorized"
	// CodeForbidden (403) says the bearer token is valid but does not
	// allow the request: its role is too weak, or it is for another
	// namespace. The message names what it lacks.
	CodeForbidden = "forbidden"
	// CodeRateLimited (429) says the client made too many failed
	// authentications, or opened too many event streams: the response's
	// Retry-After header says when to try again.
	CodeRateLimited = "rate_limited"
	// CodeTooLarge (413) says the request body exceeds its limit.
	CodeTooLarge = "too_large"
	// CodeUnknownRoute (404) says no route serves the method and path:
	// the server is probably of another version. It is deliberately not
	// CodeNotFound, so that it is never taken for a missing record.
	CodeUnknownRoute = "unknown_route"
	// CodeDamaged (500) says the stored state is damaged (lost writes, bytes
	// that do not match their hash): the control plane refuses to act on
	// it. The client's errors match state.ErrDamaged.
	CodeDamaged = "damaged"
	// CodeUnavailable (503) says the operation needs the leading control
	// plane and none leads right now (the lead is changing hands): try
	// again, here or at another control plane.
	CodeUnavailable = "unavailable"
	// CodeInternal (500) is every other failure.
	CodeInternal = "internal"
)

// Error is an error response of the API, as the Client returns it.
// Status is the HTTP status; Code is one of the Code constants, or "" when
// the response did not come from a muster server (a proxy's error page);
// Message is the server's message.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error returns the server's message. An unauthorized error also tells
// how to give the token.
func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
		if msg == "" {
			msg = "unexpected response"
		}
	}
	if e.Code == CodeUnauthorized {
		msg += ": set MUSTER_TOKEN to the control plane's API token"
	}
	return msg
}

// Is makes errors.Is(err, state.ErrNotFound) true for CodeNotFound,
// errors.Is(err, state.ErrConflict) for CodeConflict and
// errors.Is(err, state.ErrDamaged) for CodeDamaged.
func (e *Error) Is(target error) bool {
	switch target {
	case state.ErrNotFound:
		return e.Code == CodeNotFound
	case state.ErrConflict:
		return e.Code == CodeConflict
	case state.ErrDamaged:
		return e.Code == CodeDamaged
	}
	return false
}

// errorBody is the JSON body of an error response.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// badRequest is an error about the request itself, answered with 400.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

// classify returns the status and code an error is answered with.
func classify(err error) (int, string) {
	var bad *badRequest
	var tooLarge *http.MaxBytesError
	var relayed *Error
	var denied *forbidden
	switch {
	case errors.As(err, &relayed) && relayed.Code != "":
		// An answer of the leading control plane, passed on as it came.
		return relayed.Status, relayed.Code
	case state.Unavailable(err):
		// JetStream took nothing (an election, a server catching up):
		// the client may send it again.
		return http.StatusServiceUnavailable, CodeUnavailable
	case errors.As(err, &bad), errors.Is(err, state.ErrInvalid):
		return http.StatusBadRequest, CodeBadRequest
	case errors.As(err, &denied):
		return http.StatusForbidden, CodeForbidden
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	case errors.Is(err, state.ErrNotFound):
		return http.StatusNotFound, CodeNotFound
	case errors.Is(err, state.ErrConflict):
		return http.StatusConflict, CodeConflict
	case errors.Is(err, state.ErrDamaged):
		return http.StatusInternalServerError, CodeDamaged
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The client went away or gave up: the answer is for the log only.
		return http.StatusServiceUnavailable, CodeInternal
	}
	return http.StatusInternalServerError, CodeInternal
}

// writeError answers err as a JSON error response.
func writeError(w http.ResponseWriter, err error) {
	status, code := classify(err)
	msg := err.Error()
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		msg = "request body larger than " + byteSize(tooLarge.Limit)
	}
	writeErrorCode(w, status, code, msg)
}

// writeErrorCode answers with an error body of the given status and code.
func writeErrorCode(w http.ResponseWriter, status int, code, msg string) {
	if code == CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="muster"`)
	}
	writeJSON(w, status, errorBody{Error: msg, Code: code})
}

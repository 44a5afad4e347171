package api

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
)

// inProcessHost is the host of the URLs an in-process client sends: the
// requests never leave the process.
const inProcessHost = "muster.in-process"

// NewInProcessClient returns a client that calls h, the handler NewServer
// returned, in this process, with token, as the client at remoteAddr: a
// server that renders pages for a browser (package ui) reads the API as
// that browser's token allows, through the same authentication and
// authorization as a request from outside, and a browser that fails to
// authenticate too often is refused as it would be.
//
// Its answers are buffered whole: it serves plain calls, not event
// streams.
func NewInProcessClient(h http.Handler, token, remoteAddr string) *Client {
	c := NewClient(inProcessHost, token)
	c.hc = &http.Client{Transport: &handlerTransport{h: h, remoteAddr: remoteAddr}}
	return c
}

// handlerTransport is an http.RoundTripper that serves each request with
// a handler.
type handlerTransport struct {
	h          http.Handler
	remoteAddr string
}

// RoundTrip serves req with t.h and returns what it answered.
func (t *handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil {
		req.Body = http.NoBody
	}
	r := req.Clone(req.Context())
	r.RemoteAddr = t.remoteAddr
	r.RequestURI = req.URL.RequestURI()
	w := &bufferedResponse{header: http.Header{}}
	t.h.ServeHTTP(w, r)
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          io.NopCloser(&w.body),
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// bufferedResponse is an http.ResponseWriter that keeps the answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

// Header returns the answer's header.
func (w *bufferedResponse) Header() http.Header { return w.header }

// WriteHeader records the status, the first time.
func (w *bufferedResponse) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write keeps b.
func (w *bufferedResponse) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}

package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Failover: a client of several control planes sharing one state tries
// them in order, starting with the one that answered last, and moves on
// when one does not answer, as far as repeating the request is safe.

// retryPolicy says when a request may be sent to the next control plane
// after it failed at one.
type retryPolicy int

const (
	// retryUnsent moves on only when the request surely never reached the
	// control plane (it could not be connected to): a request that is not
	// safe to repeat, such as starting a rollout.
	retryUnsent retryPolicy = iota
	// retrySafe moves on after any failure to get an answer (refused,
	// reset, timed out) and after a 503 of a control plane shutting down:
	// a request that is safe to repeat, because it reads, or because a
	// repeat changes nothing (content-addressed puts, a commit on a base
	// revision, which a repeat answers with a conflict).
	retrySafe
)

// retryFor is the policy of a plain call of method: reads and puts are
// safe to repeat, other writes are not unless the call says so
// (callRetry).
func retryFor(method string) retryPolicy {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete:
		return retrySafe
	}
	return retryUnsent
}

// EventResumed is the kind of the event Client.Events sends after the
// event stream broke and it followed the events at another control plane:
// events in between may be missing, so a reader waiting for one reads the
// job's status again. Its Message says where the stream moved.
const EventResumed = "resumed"

// request is a request the client may send to several control planes.
type request struct {
	method, path string
	query        url.Values
	contentType  string
	accept       string
	policy       retryPolicy
	// body returns the body to send, nil for none; again reports whether
	// the body can be sent again (it was not consumed, or was rewound).
	body func() (r io.Reader, again bool)
}

// do sends r to the control plane that answered last, and to the next ones
// while they fail and r.policy allows it. It returns the response of the
// first that answered 2xx, and which one it was; or an error naming every
// control plane tried: an *Error when one answered with an error.
func (c *Client) do(ctx context.Context, r request) (*http.Response, endpoint, error) {
	if c.err != nil {
		return nil, endpoint{}, c.err
	}
	began := time.Now()
	for wait := unavailableFirstWait; ; wait = min(2*wait, unavailableMaxWait) {
		resp, ep, errs := c.round(ctx, r)
		if errs == nil {
			return resp, ep, nil
		}
		// Every control plane said that nothing was done for now (the
		// lead or a NATS leader is changing hands): ask again, a while.
		if !allUnavailable(errs) || time.Since(began)+wait > unavailableBudget {
			return nil, endpoint{}, joinTried(errs)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, endpoint{}, joinTried(errs)
		case <-t.C:
		}
	}
}

// How long a request answered "unavailable" by every control plane is
// sent again: waits growing from the first to the max, for at most the
// budget in all. A NATS cluster elects a stream leader within seconds.
const (
	unavailableFirstWait = 250 * time.Millisecond
	unavailableMaxWait   = 2 * time.Second
	unavailableBudget    = 20 * time.Second
)

// round sends r to the control plane that answered last, and to the next
// ones while they fail and r.policy allows it: the response of the first
// that answered 2xx, or the errors of those tried.
func (c *Client) round(ctx context.Context, r request) (*http.Response, endpoint, []error) {
	n := len(c.eps)
	start := int(c.cur.Load())
	var errs []error
	for i := 0; i < n; i++ {
		k := (start + i) % n
		ep := c.eps[k]
		resp, again, err := c.send(ctx, ep, r)
		if err == nil {
			c.cur.Store(int32(k))
			return resp, ep, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil || !again || !r.retryable(err) {
			break
		}
	}
	return nil, endpoint{}, errs
}

// allUnavailable reports whether every error of errs is an answer with
// CodeUnavailable: nothing was carried out, whatever the request.
func allUnavailable(errs []error) bool {
	for _, err := range errs {
		var ae *Error
		if !errors.As(err, &ae) || ae.Code != CodeUnavailable {
			return false
		}
	}
	return len(errs) > 0
}

// send sends r to ep once. again says whether r can be sent again: its
// body could be had (see request.body). An answer other than 2xx is an
// *Error.
func (c *Client) send(ctx context.Context, ep endpoint, r request) (_ *http.Response, again bool, _ error) {
	var body io.Reader
	if r.body != nil {
		var ok bool
		if body, ok = r.body(); !ok {
			return nil, false, fmt.Errorf("control plane at %s: the request body cannot be sent again", ep.addr)
		}
	}
	req, err := c.newRequest(ctx, ep, r.method, r.path, r.query, body)
	if err != nil {
		return nil, false, err
	}
	if body != nil {
		if req.ContentLength = sizeOf(body); req.ContentLength == 0 {
			req.Body = http.NoBody
		}
		req.Header.Set("Content-Type", r.contentType)
	}
	if r.accept != "" {
		req.Header.Set("Accept", r.accept)
	}
	resp, err := c.doAttempt(req, r)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, true, &tryError{addr: ep.addr, err: err}
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, true, readError(resp)
	}
	return resp, true, nil
}

// attemptHeaders bounds the wait for the answer's headers of a request
// that is safe to send to the next control plane, when there is one: a
// control plane that hangs (paused, cut off) is left for the next.
var attemptHeaders = 30 * time.Second

// errNoAnswer is the failure of an attempt whose answer did not begin
// within attemptHeaders.
var errNoAnswer = errors.New("no answer")

// doAttempt sends req, giving up after attemptHeaders without headers
// when r may go to another control plane.
func (c *Client) doAttempt(req *http.Request, r request) (*http.Response, error) {
	if r.policy != retrySafe || len(c.eps) < 2 {
		return c.hc.Do(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	context.AfterFunc(req.Context(), cancel)
	late := time.AfterFunc(attemptHeaders, cancel)
	resp, err := c.hc.Do(req.WithContext(ctx))
	if !late.Stop() && req.Context().Err() == nil {
		if err == nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("%w within %s", errNoAnswer, attemptHeaders)
	}
	return resp, err
}

// retryable says whether a request that failed with err may go to the next
// control plane.
func (r request) retryable(err error) bool {
	var te *tryError
	if errors.As(err, &te) {
		return r.policy == retrySafe || te.unsent()
	}
	var ae *Error
	// A control plane shutting down answers what it was cut off in with
	// 503.
	if !errors.As(err, &ae) {
		return false
	}
	// Unavailable: nothing was carried out, so another may take it.
	return ae.Code == CodeUnavailable || ae.Status == http.StatusServiceUnavailable && r.policy == retrySafe
}

// tryError is a failure to get an answer from one control plane.
type tryError struct {
	addr string
	err  error
}

func (e *tryError) Error() string { return "control plane at " + e.addr + ": " + e.err.Error() }
func (e *tryError) Unwrap() error { return e.err }

// unsent says whether the request surely never reached the control plane:
// it could not be connected to.
func (e *tryError) unsent() bool {
	var op *net.OpError
	if errors.As(e.err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(e.err, &dns)
}

// triedError is the failure of a request at every control plane it was
// sent to, in order. It matches each of their errors (errors.Is, As).
type triedError struct{ errs []error }

func (e *triedError) Error() string {
	parts := make([]string, len(e.errs))
	for i, err := range e.errs {
		parts[i] = err.Error()
	}
	return "no control plane answered: " + strings.Join(parts, "; ")
}

func (e *triedError) Unwrap() []error { return e.errs }

// joinTried returns the error of a request that failed at every control
// plane in errs: the error itself when there is one.
func joinTried(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	return &triedError{errs: errs}
}

// countingReader counts the bytes read through it, to tell whether a body
// was consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// sizeOf returns the length of a body whose size is known, as
// http.NewRequest tells it; -1 (unknown) for others.
func sizeOf(r io.Reader) int64 {
	switch v := r.(type) {
	case *bytes.Reader:
		return int64(v.Len())
	case *bytes.Buffer:
		return int64(v.Len())
	case *strings.Reader:
		return int64(v.Len())
	}
	return -1
}

// Events subscribes to the events of job ns/name, or of every job when
// name is "". It returns once a control plane has registered the
// subscription, so that events of a rollout started afterwards are not
// missed. When the client knows several control planes and the stream
// breaks, it follows the events at the next one that answers and sends an
// EventResumed event first. The channel is closed when ctx is done or the
// stream ends for good (no control plane answers, or one sent a line that
// is not an event).
func (c *Client) Events(ctx context.Context, ns, name string) (<-chan Event, error) {
	q := url.Values{}
	if ns != "" {
		q.Set("namespace", ns)
	}
	if name != "" {
		q.Set("name", name)
	}
	r := request{method: http.MethodGet, path: "/events", query: q, accept: contentNDJSON, policy: retrySafe}
	resp, ep, err := c.openStream(ctx, r)
	if err != nil {
		return nil, err
	}
	ch := make(chan Event, eventsBuffer)
	go c.follow(ctx, r, resp, ep, ch)
	return ch, nil
}

// streamOpen bounds the wait for an event stream's headers: a control
// plane sends them once it has set the follow up, within seconds.
var streamOpen = 30 * time.Second

// openStream sends the request of an event stream and returns its
// response once its headers came, or fails after streamOpen.
func (c *Client) openStream(ctx context.Context, r request) (*http.Response, endpoint, error) {
	sctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(ctx, cancel)
	late := time.AfterFunc(streamOpen, cancel)
	resp, ep, err := c.do(sctx, r)
	if !late.Stop() && ctx.Err() == nil {
		if err == nil {
			resp.Body.Close()
		}
		return nil, ep, &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable,
			Message: fmt.Sprintf("the control plane did not open the event stream within %s", streamOpen)}
	}
	return resp, ep, err
}

// follow sends the events of resp on ch and, when the stream breaks,
// resumes it at the next control plane that answers.
func (c *Client) follow(ctx context.Context, r request, resp *http.Response, ep endpoint, ch chan<- Event) {
	defer close(ch)
	for {
		broke := c.relay(ctx, resp, ch)
		resp.Body.Close()
		if !broke || ctx.Err() != nil || len(c.eps) < 2 {
			return
		}
		from := ep.addr
		c.skip(ep)
		var err error
		if resp, ep, err = c.openStream(ctx, r); err != nil {
			return
		}
		ev := Event{Time: time.Now().UTC(), Kind: EventResumed,
			Message: fmt.Sprintf("the event stream of the control plane at %s broke; following the control plane at %s (events in between may be missing)", from, ep.addr)}
		select {
		case ch <- ev:
		case <-ctx.Done():
			resp.Body.Close()
			return
		}
	}
}

// relay sends the events of resp on ch until the stream ends or ctx is
// done. broke says the stream ended without a bad line.
func (c *Client) relay(ctx context.Context, resp *http.Response, ch chan<- Event) (broke bool) {
	dec := json.NewDecoder(&idleReader{r: resp.Body, idle: streamIdle})
	for {
		var ev Event
		if err := dec.Decode(&ev); err != nil {
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			return !errors.As(err, &se) && !errors.As(err, &te)
		}
		select {
		case ch <- ev:
		case <-ctx.Done():
			return false
		}
	}
}

// skip makes the next request start after ep, unless another request
// already moved on from it.
func (c *Client) skip(ep endpoint) {
	for i, e := range c.eps {
		if e == ep {
			c.cur.CompareAndSwap(int32(i), int32((i+1)%len(c.eps)))
			return
		}
	}
}

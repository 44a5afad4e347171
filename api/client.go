package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// callTimeout bounds a plain call, from sending the request to reading
// the whole response. The event stream and documents have no timeout but
// their context.
const callTimeout = 2 * time.Minute

// maxErrorBody bounds how much of an error response the client reads.
const maxErrorBody = 64 << 10

// Client talks to a control plane over the API. It implements Backend and
// Control, and is safe for concurrent use. Every error the control plane
// answers is an *Error; an error reaching it names its address.
//
// A client may know several addresses of control planes that share one
// state (see NewClient): it uses the first that answers and sticks to it,
// and moves on to the next when it stops answering (see failover.go).
type Client struct {
	eps   []endpoint // the control planes, in the order given
	cur   atomic.Int32
	token string
	hc    *http.Client
	err   error // a bad address, returned by every call
}

// endpoint is one control plane address.
type endpoint struct {
	addr string // "host:port", for error messages
	base string // the URL of /v1, without a trailing slash
}

var (
	_ Backend = (*Client)(nil)
	_ Control = (*Client)(nil)
)

// NewClient returns a client of the control plane at addr, "host:port" or
// a URL such as "http://host:port", or of several control planes sharing
// one state at a comma-separated list of them ("a:4747,b:4747"). token,
// when not "", is sent as a bearer token. A bad address is reported by
// every call. Close the client when done with it.
func NewClient(addr, token string) *Client {
	return NewClientTLS(addr, token, nil)
}

// NewClientTLS is NewClient for control planes serving https: it verifies
// them with cfg (its RootCAs: the CA that signed their certificates), and
// an address without a scheme ("host:port") is reached over https. With a
// nil cfg it is NewClient.
func NewClientTLS(addr, token string, cfg *tls.Config) *Client {
	c := &Client{token: token}
	scheme := "http"
	if cfg != nil {
		scheme = "https"
	}
	for _, a := range strings.Split(addr, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		ep, err := parseEndpoint(a, scheme)
		if err != nil {
			c.err = err
			break
		}
		c.eps = append(c.eps, ep)
	}
	if c.err == nil && len(c.eps) == 0 {
		c.err = fmt.Errorf("invalid control plane address %q: want host:port or http://host:port", addr)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 16
	if cfg != nil {
		tr.TLSClientConfig = cfg.Clone()
	}
	c.hc = &http.Client{
		Transport: tr,
		// The API never redirects: a redirect comes from something else
		// listening there, and is answered as an error.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// dialTimeout bounds connecting to one address, so that an unreachable
// control plane leaves time to try the next.
const dialTimeout = 5 * time.Second

// parseEndpoint parses one control plane address; one without a scheme
// has scheme.
func parseEndpoint(addr, scheme string) (endpoint, error) {
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = scheme + "://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return endpoint{}, fmt.Errorf("invalid control plane address %q: %v", addr, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return endpoint{}, fmt.Errorf("invalid control plane address %q: want host:port or http://host:port", addr)
	case u.Host == "":
		return endpoint{}, fmt.Errorf("invalid control plane address %q: no host", addr)
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/") + "/" + Version
	return endpoint{addr: u.Host, base: base}, nil
}

// Addr returns the address of the control plane the client uses now: the
// one that answered last, at first the first given.
func (c *Client) Addr() string {
	if len(c.eps) == 0 {
		return ""
	}
	return c.eps[int(c.cur.Load())%len(c.eps)].addr
}

// Close closes the client's idle connections. The client stays usable.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// newRequest returns a request to ep for path (under /v1, its segments
// already escaped) with query and body.
func (c *Client) newRequest(ctx context.Context, ep endpoint, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	u := ep.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("control plane at %s: %w", ep.addr, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "muster-api-client/"+Version)
	return req, nil
}

// readError turns an error response into an *Error.
func readError(resp *http.Response) *Error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body errorBody
	if err := json.Unmarshal(b, &body); err == nil && body.Code != "" {
		return &Error{Status: resp.StatusCode, Code: body.Code, Message: body.Error}
	}
	// Not from a muster server: keep the first line of what it said.
	msg, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	e := &Error{Status: resp.StatusCode, Message: resp.Status}
	if msg != "" {
		e.Message += ": " + msg
	}
	return e
}

// call does a plain call: it sends in as JSON (none when nil) and decodes
// the response into out (discarded when nil), within callTimeout.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	return c.callBytes(ctx, method, path, query, body, contentJSON, func(r io.Reader) error {
		if out == nil {
			_, err := io.Copy(io.Discard, r)
			return err
		}
		return json.NewDecoder(r).Decode(out)
	})
}

// callBytes does a plain call with a raw body (none when nil) and hands the
// response body to read, within callTimeout. GET and PUT calls move on to
// the next control plane when one does not answer; others only when they
// surely never reached it (see retryFor).
func (c *Client) callBytes(ctx context.Context, method, path string, query url.Values, body []byte, contentType string, read func(io.Reader) error) error {
	return c.callRetry(ctx, retryFor(method), method, path, query, body, contentType, read)
}

// callRetry is callBytes with the retry policy given.
func (c *Client) callRetry(ctx context.Context, rp retryPolicy, method, path string, query url.Values, body []byte, contentType string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	r := request{method: method, path: path, query: query, contentType: contentType, policy: rp}
	if body != nil {
		r.body = func() (io.Reader, bool) { return bytes.NewReader(body), true }
	}
	resp, ep, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := read(resp.Body); err != nil {
		return readErr(ep, resp.Request, err)
	}
	return nil
}

// readErr wraps an error reading the response to req from ep.
func readErr(ep endpoint, req *http.Request, err error) error {
	return fmt.Errorf("control plane at %s: read response to %s %s: %w", ep.addr, req.Method, req.URL.Path, err)
}

// jobPath returns the escaped path of a job's routes, after checking its
// namespace and name.
func jobPath(ns, name string) (string, error) {
	if err := checkJobRef(ns, name); err != nil {
		return "", err
	}
	return "/jobs/" + url.PathEscape(ns) + "/" + url.PathEscape(name), nil
}

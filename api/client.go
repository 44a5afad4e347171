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

// callTimeout bounds a plain call, from sending the request to reading
// the whole response. The event stream and documents have no timeout but
// their context.
const callTimeout = 2 * time.Minute

// maxErrorBody bounds how much of an error response the client reads.
const maxErrorBody = 64 << 10

// Client talks to a control plane over the API. It implements Backend and
// Control, and is safe for concurrent use. Every error the control plane
// answers is an *Error; an error reaching it names its address.
type Client struct {
	base  string // the URL of /v1, without a trailing slash
	addr  string // the control plane's address, for error messages
	token string
	hc    *http.Client
	err   error // a bad address, returned by every call
}

var (
	_ Backend = (*Client)(nil)
	_ Control = (*Client)(nil)
)

// NewClient returns a client of the control plane at addr, "host:port" or
// a URL such as "http://host:port". token, when not "", is sent as a bearer
// token. A bad address is reported by every call. Close the client when
// done with it.
func NewClient(addr, token string) *Client {
	c := &Client{addr: addr, token: token}
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		c.err = fmt.Errorf("invalid control plane address %q: %v", addr, err)
	case u.Scheme != "http" && u.Scheme != "https":
		c.err = fmt.Errorf("invalid control plane address %q: want host:port or http://host:port", addr)
	case u.Host == "":
		c.err = fmt.Errorf("invalid control plane address %q: no host", addr)
	default:
		c.addr = u.Host
		c.base = strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/") + "/" + Version
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.MaxIdleConnsPerHost = 16
	c.hc = &http.Client{
		Transport: tr,
		// The API never redirects: a redirect comes from something else
		// listening there, and is answered as an error.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// Close closes the client's idle connections. The client stays usable.
func (c *Client) Close() error {
	c.hc.CloseIdleConnections()
	return nil
}

// newRequest returns a request for path (under /v1, its segments already
// escaped) with query and body.
func (c *Client) newRequest(ctx context.Context, method, path string, query url.Values, body io.Reader) (*http.Request, error) {
	if c.err != nil {
		return nil, c.err
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("control plane at %s: %w", c.addr, err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "muster-api-client/"+Version)
	return req, nil
}

// send sends req and returns its response when the status is 2xx, or an
// error: an *Error for any other status.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("control plane at %s: %w", c.addr, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, readError(resp)
	}
	return resp, nil
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
// response body to read, within callTimeout.
func (c *Client) callBytes(ctx context.Context, method, path string, query url.Values, body []byte, contentType string, read func(io.Reader) error) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := c.newRequest(ctx, method, path, query, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := read(resp.Body); err != nil {
		return c.readErr(req, err)
	}
	return nil
}

// readErr wraps an error reading the response to req.
func (c *Client) readErr(req *http.Request, err error) error {
	return fmt.Errorf("control plane at %s: read response to %s %s: %w", c.addr, req.Method, req.URL.Path, err)
}

// jobPath returns the escaped path of a job's routes, after checking its
// namespace and name.
func jobPath(ns, name string) (string, error) {
	if err := checkJobRef(ns, name); err != nil {
		return "", err
	}
	return "/jobs/" + url.PathEscape(ns) + "/" + url.PathEscape(name), nil
}

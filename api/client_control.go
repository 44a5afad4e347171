package api

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// The Control methods of the Client; Events is in events.go.

// maxLogChunk bounds a ReadLog response: the Control contract is at most
// 1 MiB; the rest is slack.
const maxLogChunk = 4 << 20

// Info describes the control plane.
func (c *Client) Info(ctx context.Context) (Info, error) {
	var info Info
	err := c.call(ctx, http.MethodGet, "/info", nil, nil, &info)
	return info, err
}

// Rollout starts rolling out version of job ns/name on the control plane
// and returns; Events reports its progress.
func (c *Client) Rollout(ctx context.Context, ns, name string, version int, promote bool) error {
	p, err := jobPath(ns, name)
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodPost, p+"/rollout", nil, rolloutRequest{Version: version, Promote: promote}, nil)
}

// Promote continues a canary rollout of job ns/name paused after its
// canary set.
func (c *Client) Promote(ctx context.Context, ns, name string) error {
	p, err := jobPath(ns, name)
	if err != nil {
		return err
	}
	return c.call(ctx, http.MethodPost, p+"/promote", nil, nil, nil)
}

// Stop stops every execution of job ns/name and returns how many it
// stopped.
func (c *Client) Stop(ctx context.Context, ns, name string) (int, error) {
	p, err := jobPath(ns, name)
	if err != nil {
		return 0, err
	}
	var out stopResponse
	err = c.call(ctx, http.MethodPost, p+"/stop", nil, nil, &out)
	return out.Stopped, err
}

// ReadLog returns what an execution wrote to stream ("stdout" or
// "stderr") from byte offset on; an empty result at the end.
func (c *Client) ReadLog(ctx context.Context, ns, name, executionID, stream string, offset int64) ([]byte, error) {
	p, err := jobPath(ns, name)
	if err != nil {
		return nil, err
	}
	if err := checkExecutionID(executionID); err != nil {
		return nil, err
	}
	q := url.Values{"stream": {stream}, "offset": {strconv.FormatInt(offset, 10)}}
	var b []byte
	err = c.callBytes(ctx, http.MethodGet, p+"/executions/"+url.PathEscape(executionID)+"/logs", q, nil, "", func(r io.Reader) error {
		var err error
		b, err = io.ReadAll(io.LimitReader(r, maxLogChunk))
		return err
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

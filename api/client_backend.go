package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// The Backend methods of the Client.

// Job returns the status of job ns/name, or an error matching
// state.ErrNotFound.
func (c *Client) Job(ctx context.Context, ns, name string) (state.JobStatus, error) {
	var st state.JobStatus
	p, err := jobPath(ns, name)
	if err != nil {
		return st, err
	}
	err = c.call(ctx, http.MethodGet, p, nil, nil, &st)
	return st, err
}

// Jobs returns the status of every job, sorted by namespace and name.
func (c *Client) Jobs(ctx context.Context) ([]state.JobStatus, error) {
	var jobs []state.JobStatus
	err := c.call(ctx, http.MethodGet, "/jobs", nil, nil, &jobs)
	return jobs, err
}

// History returns the committed versions of job ns/name, oldest first.
func (c *Client) History(ctx context.Context, ns, name string) ([]state.Version, error) {
	var versions []state.Version
	p, err := jobPath(ns, name)
	if err != nil {
		return nil, err
	}
	err = c.call(ctx, http.MethodGet, p+"/versions", nil, nil, &versions)
	return versions, err
}

// CommitVersion records hash as the spec of job ns/name in state, if the
// job's revision is still baseRevision; otherwise it fails with an error
// matching state.ErrConflict.
func (c *Client) CommitVersion(ctx context.Context, ns, name, hash string, baseRevision uint64, st state.JobState) (state.JobStatus, error) {
	var out state.JobStatus
	p, err := jobPath(ns, name)
	if err != nil {
		return out, err
	}
	in := commitRequest{Hash: hash, BaseRevision: baseRevision, State: string(st)}
	b, err := json.Marshal(in)
	if err != nil {
		return out, err
	}
	// Safe to repeat at another control plane: a commit that went through
	// moved the job past baseRevision, so a repeat is a conflict.
	err = c.callRetry(ctx, retrySafe, http.MethodPost, p+"/versions", nil, b, contentJSON, decodeJSON(&out))
	return out, err
}

// Executions returns the executions of job ns/name.
func (c *Client) Executions(ctx context.Context, ns, name string) ([]state.Execution, error) {
	var execs []state.Execution
	p, err := jobPath(ns, name)
	if err != nil {
		return nil, err
	}
	err = c.call(ctx, http.MethodGet, p+"/executions", nil, nil, &execs)
	return execs, err
}

// Spec returns the canonical bytes stored under hash, exactly as stored.
func (c *Client) Spec(ctx context.Context, hash string) ([]byte, error) {
	if err := checkHash("spec", hash); err != nil {
		return nil, err
	}
	var b []byte
	err := c.callBytes(ctx, http.MethodGet, "/specs/"+url.PathEscape(hash), nil, nil, "", func(r io.Reader) error {
		var err error
		b, err = io.ReadAll(r)
		return err
	})
	if err == nil && schema.HashBytes(b) != schema.HashPrefix+strings.TrimPrefix(hash, schema.HashPrefix) {
		// Content addressing is checked at both ends: bytes that do not
		// hash to their name never run, whoever changed them.
		return nil, fmt.Errorf("spec %s: the control plane answered bytes that hash to %s: %w", hash, schema.HashBytes(b), state.ErrDamaged)
	}
	return b, err
}

// ResolveSpec expands a unique spec hash prefix to the full hash.
func (c *Client) ResolveSpec(ctx context.Context, prefix string) (string, error) {
	var out hashResponse
	err := c.call(ctx, http.MethodGet, "/specs", url.Values{"prefix": {prefix}}, nil, &out)
	return out.Hash, err
}

// ResolveDocument expands a unique document hash prefix to the full hash.
func (c *Client) ResolveDocument(ctx context.Context, prefix string) (string, error) {
	var out hashResponse
	err := c.call(ctx, http.MethodGet, "/documents", url.Values{"prefix": {prefix}}, nil, &out)
	return out.Hash, err
}

// PutSpec stores canonical spec bytes and returns their hash.
func (c *Client) PutSpec(ctx context.Context, canonical []byte) (string, error) {
	var out hashResponse
	if canonical == nil {
		canonical = []byte{}
	}
	// Content-addressed: storing the same bytes again changes nothing.
	err := c.callRetry(ctx, retrySafe, http.MethodPost, "/specs", nil, canonical, contentJSON, decodeJSON(&out))
	return out.Hash, err
}

// Nodes returns every node.
func (c *Client) Nodes(ctx context.Context) ([]state.Node, error) {
	var nodes []state.Node
	err := c.call(ctx, http.MethodGet, "/nodes", nil, nil, &nodes)
	return nodes, err
}

// PutNode stores n and returns the stored node.
func (c *Client) PutNode(ctx context.Context, n state.Node) (state.Node, error) {
	var out state.Node
	if n.ID == "" {
		return out, badf("invalid node id \"\": a node needs an id")
	}
	err := c.call(ctx, http.MethodPut, "/nodes/"+url.PathEscape(n.ID), nil, n, &out)
	return out, err
}

// PutDocument streams the bytes of r into the document store and returns
// their hash and size. It has no timeout but ctx. r is not closed. The
// store is content-addressed, so the upload goes to the next control plane
// when one does not answer, if r can be sent again: it was not read yet,
// or it is an io.Seeker, rewound to where it was.
func (c *Client) PutDocument(ctx context.Context, r io.Reader) (string, int64, error) {
	req := request{method: http.MethodPost, path: "/documents", contentType: contentBytes, policy: retrySafe, body: rewindable(r)}
	resp, ep, err := c.do(ctx, req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var out documentResponse
	if err := decodeJSON(&out)(resp.Body); err != nil {
		return "", 0, readErr(ep, resp.Request, err)
	}
	return out.Hash, out.Size, nil
}

// rewindable returns the body of a request sending r: r itself, sent
// again when nothing of it was read yet, or when it can be rewound to
// where it is now.
func rewindable(r io.Reader) func() (io.Reader, bool) {
	if s, ok := r.(io.Seeker); ok {
		if at, err := s.Seek(0, io.SeekCurrent); err == nil {
			return func() (io.Reader, bool) {
				_, err := s.Seek(at, io.SeekStart)
				return r, err == nil
			}
		}
		// Not seekable after all (a pipe).
	}
	cr := &countingReader{r: r}
	return func() (io.Reader, bool) { return cr, cr.n == 0 }
}

// Document opens the document stored under hash, or fails with an error
// matching state.ErrNotFound. It has no timeout but ctx: close the reader
// when done. Reading fails if the transfer is cut short.
func (c *Client) Document(ctx context.Context, hash string) (io.ReadCloser, error) {
	if err := checkHash("document", hash); err != nil {
		return nil, err
	}
	resp, _, err := c.do(ctx, request{method: http.MethodGet, path: "/documents/" + url.PathEscape(hash), policy: retrySafe})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}

// decodeJSON returns a response reader that decodes JSON into out.
func decodeJSON(out any) func(io.Reader) error {
	return func(r io.Reader) error { return json.NewDecoder(r).Decode(out) }
}

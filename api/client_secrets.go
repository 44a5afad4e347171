package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/muster-dev/muster/state"
)

// The SecretStore methods of the Client. None reads a value back: no route
// answers one.

var _ SecretStore = (*Client)(nil)

// secretPath is the route of the secret ns/name.
func secretPath(ns, name string) string {
	return "/secrets/" + url.PathEscape(ns) + "/" + url.PathEscape(name)
}

// PutSecret stores value as the secret ns/name on the control plane (a
// write token of ns).
func (c *Client) PutSecret(ctx context.Context, ns, name string, value []byte) error {
	if err := state.CheckSecret(ns, name); err != nil {
		return err
	}
	// PUT is idempotent: it may be repeated at another control plane.
	return c.callBytes(ctx, http.MethodPut, secretPath(ns, name), nil, bytes.Clone(value), contentBytes, func(r io.Reader) error {
		_, err := io.Copy(io.Discard, r)
		return err
	})
}

// Secrets lists the secrets of ns (state.AllNamespaces: those of the
// token's namespace, every one for a token of every namespace), never
// their values.
func (c *Client) Secrets(ctx context.Context, ns string) ([]state.SecretInfo, error) {
	var q url.Values
	if ns != state.AllNamespaces {
		q = url.Values{"namespace": {ns}}
	}
	var out []state.SecretInfo
	err := c.call(ctx, http.MethodGet, "/secrets", q, nil, &out)
	return out, err
}

// DeleteSecret removes the secret ns/name on the control plane.
func (c *Client) DeleteSecret(ctx context.Context, ns, name string) error {
	if err := state.CheckSecret(ns, name); err != nil {
		return err
	}
	return c.call(ctx, http.MethodDelete, secretPath(ns, name), nil, nil, nil)
}

package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/muster-dev/muster/state"
)

// The TokenStore methods of the Client: they need an admin token.

var _ TokenStore = (*Client)(nil)

// CreateToken creates a token for spec on the control plane and returns it
// with its secret, the whole bearer token, shown this once.
func (c *Client) CreateToken(ctx context.Context, spec state.TokenSpec) (state.Token, string, error) {
	in := tokenRequest{Namespace: spec.Namespace, Role: spec.Role, Description: spec.Description, Node: spec.Node}
	if spec.TTL > 0 {
		in.TTL = spec.TTL.String()
	}
	var out tokenResponse
	// Not repeated at another control plane: a repeat would make a
	// second token.
	if err := c.call(ctx, http.MethodPost, "/tokens", nil, in, &out); err != nil {
		return state.Token{}, "", err
	}
	return out.Token, out.Secret, nil
}

// Tokens returns the tokens the client's token may manage, never their
// secrets.
func (c *Client) Tokens(ctx context.Context) ([]state.Token, error) {
	var out []state.Token
	err := c.call(ctx, http.MethodGet, "/tokens", nil, nil, &out)
	return out, err
}

// RevokeToken deletes the token id on the control plane: it is refused
// from now on.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	if err := state.CheckTokenID(id); err != nil {
		return err
	}
	return c.call(ctx, http.MethodDelete, "/tokens/"+url.PathEscape(id), nil, nil, nil)
}

// JoinNode exchanges the client's token (a join token, or an admin's of
// every namespace) for the credentials of node id: its node token, shown
// this once. When the client's token is node id's own, it stays the
// node's credentials: the token returned is "".
func (c *Client) JoinNode(ctx context.Context, id string) (state.Token, string, error) {
	if err := state.CheckNodeID(id); err != nil {
		return state.Token{}, "", err
	}
	var out tokenResponse
	// Not repeated at another control plane: a repeat would make second
	// credentials.
	if err := c.call(ctx, http.MethodPost, "/nodes/"+url.PathEscape(id)+"/join", nil, nil, &out); err != nil {
		return state.Token{}, "", err
	}
	return out.Token, out.Secret, nil
}

package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/muster-dev/muster/state"
)

// The handlers of the token routes. They need an admin token; one for a
// single namespace manages the tokens of that namespace only.

// tokenRequest is the body of POST /v1/tokens.
type tokenRequest struct {
	Namespace   string     `json:"namespace"`
	Role        state.Role `json:"role"`
	TTL         string     `json:"ttl,omitempty"` // a Go duration: "720h"
	Description string     `json:"description,omitempty"`
	Node        string     `json:"node,omitempty"` // the node of a node token
}

// tokenResponse answers POST /v1/tokens: the token's record and the whole
// bearer token, shown this once.
type tokenResponse struct {
	state.Token
	Secret string `json:"token"`
}

// tokenStore returns the server's token store, or an error saying there
// is none.
func (s *server) tokenStore() (tokenAuthority, error) {
	if s.tokens == nil {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeUnknownRoute, Message: "this control plane stores no tokens"}
	}
	return s.tokens, nil
}

func (s *server) createToken(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.tokenStore()
	if err != nil {
		return err
	}
	var req tokenRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	spec := state.TokenSpec{Namespace: req.Namespace, Role: req.Role, Description: req.Description, Node: req.Node}
	if req.TTL != "" {
		if spec.TTL, err = time.ParseDuration(req.TTL); err != nil || spec.TTL <= 0 {
			return badf("invalid ttl %q: want a positive duration such as 720h", req.TTL)
		}
	}
	if err := spec.Check(); err != nil {
		return err
	}
	if err := principalOf(r).allowsNamespace(spec.Namespace); err != nil {
		return err
	}
	tok, secret, err := ts.CreateToken(r.Context(), spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenResponse{Token: tok, Secret: secret})
	return nil
}

func (s *server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.tokenStore()
	if err != nil {
		return err
	}
	toks, err := ts.Tokens(r.Context())
	if err != nil {
		return err
	}
	p := principalOf(r)
	toks = slices.DeleteFunc(toks, func(t state.Token) bool { return !p.covers(t.Namespace) })
	writeJSON(w, http.StatusOK, list(toks))
	return nil
}

func (s *server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.tokenStore()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := state.CheckTokenID(id); err != nil {
		return err
	}
	if p := principalOf(r); p.namespace != state.AllNamespaces {
		toks, err := ts.Tokens(r.Context())
		if err != nil {
			return err
		}
		i := slices.IndexFunc(toks, func(t state.Token) bool { return t.ID == id })
		if i < 0 {
			return fmt.Errorf("token %s %w", id, state.ErrNotFound)
		}
		if err := p.allowsNamespace(toks[i].Namespace); err != nil {
			return err
		}
	}
	if err := ts.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, empty{})
	return nil
}

// joinNode makes node credentials for node {id}: a node token, shown this
// once, which the node's agent presents to the NATS server as the password
// of the user named after its node (see state.NodePermissions).
func (s *server) joinNode(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.tokenStore()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := state.CheckNodeID(id); err != nil {
		return bad(err)
	}
	p := principalOf(r)
	if p.role == state.RoleNode {
		// The node's own credentials, given to its agent directly: they
		// stay its credentials, and no others are made.
		writeJSON(w, http.StatusOK, tokenResponse{Token: state.Token{Namespace: state.AllNamespaces, Role: state.RoleNode, Node: id}})
		return nil
	}
	if p.role == state.RoleJoin {
		// A join token makes a node once: joining as a node that has
		// credentials would take its work, and the secrets sent with it.
		if err := notJoined(r.Context(), ts, id); err != nil {
			return err
		}
	}
	spec := state.TokenSpec{Namespace: state.AllNamespaces, Role: state.RoleNode, Node: id,
		Description: "node " + id + ", joined with " + principalOf(r).id}
	tok, secret, err := ts.CreateToken(r.Context(), spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenResponse{Token: tok, Secret: secret})
	return nil
}

// notJoined fails with a conflict when node id has live credentials.
func notJoined(ctx context.Context, ts tokenAuthority, id string) error {
	toks, err := ts.Tokens(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, t := range toks {
		if t.Role == state.RoleNode && t.Node == id && !t.Expired(now) {
			return &Error{Status: http.StatusConflict, Code: CodeConflict,
				Message: fmt.Sprintf("node %s has joined already (token %s): a join token does not join it again; revoke that token, or join with an admin's token", id, t.ID)}
		}
	}
	return nil
}

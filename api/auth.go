package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/muster-dev/muster/state"
)

// Authentication and authorization. A server given a bootstrap token
// authenticates every request: the bootstrap token is an admin of every
// namespace; a scoped token (state.Store.CreateToken) has the namespace and
// role it was created with. Each route declares the role it needs and
// where: in the job's namespace ({ns}), in every namespace, or anywhere
// (what is not namespaced: specs, documents, nodes, info). A request the
// token does not allow is answered 403 forbidden, naming what it lacks.

// tokenAuthority is what the server needs of a store of scoped tokens:
// managing them, and authenticating one. *state.Store implements it.
type tokenAuthority interface {
	TokenStore
	AuthenticateToken(ctx context.Context, token string) (state.Token, error)
}

var _ tokenAuthority = (*state.Store)(nil)

// principal is who a request acts as: the bootstrap token, a scoped token,
// or anyone when the server requires no token.
type principal struct {
	// id names the token in messages: "the bootstrap token", "token <id>".
	id        string
	role      state.Role
	namespace string // state.AllNamespaces for every one
	node      string // the node of a node token
}

// anyone is the principal of every request to a server that requires no
// token: an admin of every namespace.
var anyone = principal{id: "an unauthenticated request", role: state.RoleAdmin, namespace: state.AllNamespaces}

// bootstrap is the principal of the bootstrap token (MUSTER_TOKEN).
var bootstrap = principal{id: "the bootstrap token", role: state.RoleAdmin, namespace: state.AllNamespaces}

// covers reports whether p may act in namespace ns (state.AllNamespaces:
// in every one).
func (p principal) covers(ns string) bool {
	return p.namespace == state.AllNamespaces || p.namespace == ns
}

// scope is where a route acts.
type scope int

const (
	// anywhere is a route that is not namespaced (or filters by the
	// principal's namespace itself).
	anywhere scope = iota
	// inJob is a job route: the {ns} of its path.
	inJob
	// everywhere is a route that reads or changes what belongs to every
	// namespace.
	everywhere
)

// access is what a route needs.
type access struct {
	role  state.Role
	where scope
}

// The accesses of the routes.
var (
	// anyToken is any authenticated request, node credentials included.
	anyToken = access{"", anywhere}
	// joinNode exchanges a join token (or an admin's of every namespace)
	// for node credentials.
	joinNode = access{state.RoleJoin, anywhere}
	readAny  = access{state.RoleRead, anywhere}
	readJob  = access{state.RoleRead, inJob}
	readAll  = access{state.RoleRead, everywhere}
	writeAny = access{state.RoleWrite, anywhere}
	writeJob = access{state.RoleWrite, inJob}
	adminAny = access{state.RoleAdmin, anywhere}
	adminAll = access{state.RoleAdmin, everywhere}
)

// forbidden is a request its token does not allow, answered 403.
type forbidden struct{ msg string }

func (e *forbidden) Error() string { return e.msg }

// principalKey is the context key of a request's principal.
type principalKey struct{}

// principalOf returns who r acts as: anyone when the server requires no
// token (the authentication middleware sets it otherwise).
func principalOf(r *http.Request) principal {
	if p, ok := r.Context().Value(principalKey{}).(principal); ok {
		return p
	}
	return anyone
}

// allows checks that p may do what a allows on r.
func (p principal) allows(a access, r *http.Request) error {
	switch {
	case a.role == "":
		return nil
	case a.role == state.RoleJoin && p.role == state.RoleAdmin && p.namespace == state.AllNamespaces:
		return nil
	case a.role == state.RoleJoin && p.role == state.RoleNode && p.node == r.PathValue("id"):
		return nil // a node's own credentials: they are its join (joinNode)
	}
	if !p.role.Includes(a.role) {
		return &forbidden{fmt.Sprintf("%s has role %s; %s %s needs role %s", p.id, p.role, r.Method, r.URL.Path, a.role)}
	}
	switch a.where {
	case inJob:
		return p.allowsNamespace(r.PathValue("ns"))
	case everywhere:
		if p.namespace != state.AllNamespaces {
			return &forbidden{fmt.Sprintf("%s is for namespace %s; %s %s needs a token for every namespace (%q)",
				p.id, p.namespace, r.Method, r.URL.Path, state.AllNamespaces)}
		}
	}
	return nil
}

// allowsNamespace checks that p may act in namespace ns.
func (p principal) allowsNamespace(ns string) error {
	if p.covers(ns) {
		return nil
	}
	return &forbidden{fmt.Sprintf("%s is for namespace %s, not %s", p.id, p.namespace, ns)}
}

// guard wraps h so that it runs only when the request's principal has a.
func guard(a access, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := principalOf(r).allows(a, r); err != nil {
			return err
		}
		return h(w, r)
	}
}

// authenticator resolves the bearer token of every request to its
// principal, or answers 401, and holds back clients that fail too often
// (failLimiter).
type authenticator struct {
	// bootstrap is the sha256 of the bootstrap token.
	bootstrap [sha256.Size]byte
	// tokens resolves scoped tokens; nil when the backend stores none.
	tokens tokenAuthority
	fails  *failLimiter
}

// unauthenticated is a request without a valid token, answered 401 and
// counted against its client.
type unauthenticated struct{ msg string }

func (e *unauthenticated) Error() string { return e.msg }

// wrap returns next behind authentication.
func (a *authenticator) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		client := clientIP(r)
		if wait, blocked := a.fails.blocked(client); blocked {
			writeRateLimited(w, wait, "too many failed authentications from "+client)
			return
		}
		p, err := a.authenticate(r)
		var bad *unauthenticated
		switch {
		case errors.As(err, &bad):
			a.fails.fail(client)
			writeErrorCode(w, http.StatusUnauthorized, CodeUnauthorized, bad.msg)
			return
		case err != nil:
			writeError(w, fmt.Errorf("authenticate: %w", err))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

// authenticate returns the principal of r's bearer token. Both the given
// and the bootstrap token are hashed first, so that the comparison takes
// the same time whatever the length of the given token.
func (a *authenticator) authenticate(r *http.Request) (principal, error) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return principal{}, &unauthenticated{"this control plane requires an API token"}
	}
	scheme, given, ok := strings.Cut(auth, " ")
	given = strings.TrimSpace(given)
	if !ok || !strings.EqualFold(scheme, "Bearer") || given == "" {
		return principal{}, &unauthenticated{"wrong API token"}
	}
	got := sha256.Sum256([]byte(given))
	if subtle.ConstantTimeCompare(got[:], a.bootstrap[:]) == 1 {
		return bootstrap, nil
	}
	if a.tokens == nil || !state.IsScopedToken(given) {
		return principal{}, &unauthenticated{"wrong API token"}
	}
	tok, err := a.tokens.AuthenticateToken(r.Context(), given)
	if errors.Is(err, state.ErrBadToken) {
		return principal{}, &unauthenticated{err.Error()}
	}
	if err != nil {
		return principal{}, err
	}
	return principal{id: "token " + tok.ID, role: tok.Role, namespace: tok.Namespace, node: tok.Node}, nil
}

// allowsSpec checks that the request's principal may act in the namespace
// of the stored spec hash. A spec that is not stored is left to the
// Backend, which answers not found.
func (s *server) allowsSpec(r *http.Request, hash string) error {
	p := principalOf(r)
	if p.namespace == state.AllNamespaces {
		return nil
	}
	b, err := s.b.Spec(r.Context(), hash)
	if errors.Is(err, state.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var id struct {
		Namespace string `json:"namespace"`
	}
	if err := json.Unmarshal(b, &id); err != nil {
		return badf("spec %s is not a job", hash)
	}
	return p.allowsNamespace(id.Namespace)
}

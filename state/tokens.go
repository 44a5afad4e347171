package state

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/nats-io/nats-server/v2/server"
	"sort"
	"strings"
	"time"
)

// Scoped API tokens. A token reads "mst_<id>_<secret>": the id (16 hex
// digits) finds its record without scanning, the secret (64 hex digits, 32
// random bytes) proves it. The store keeps the id, the sha256 of the secret
// and the token's scope, never the secret: it is shown once, when the token
// is created. A fast unkeyed hash is enough here: a secret of 256 random
// bits cannot be found from its hash by trying candidates.

// bucketTokens is the KV bucket of tokens, by id.
const bucketTokens = "tokens"

// TokenPrefix starts every scoped API token.
const TokenPrefix = "mst_"

// AllNamespaces is the namespace of a token that covers every namespace.
const AllNamespaces = "*"

// MaxTokenDescription bounds a token's description, in bytes.
const MaxTokenDescription = 256

// tokenIDBytes and tokenSecretBytes are the random bytes of a token's id
// and secret.
const (
	tokenIDBytes     = 8
	tokenSecretBytes = 32
)

// ErrBadToken is matched (errors.Is) by every error of AuthenticateToken
// about the token itself: malformed, unknown (never created, or revoked)
// or expired. A server answers it 401.
var ErrBadToken = errors.New("invalid API token")

// badToken returns an error that reads as formatted and matches
// ErrBadToken.
func badToken(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadToken, fmt.Sprintf(format, args...))
}

// Role is what a token may do. Each role includes the ones before it.
type Role string

// The roles, weakest first.
const (
	// RoleRead reads jobs, versions, executions, logs, events, specs,
	// documents and nodes.
	RoleRead Role = "read"
	// RoleWrite also records versions, rolls out, promotes and stops jobs,
	// and stores specs, documents and sensitive paths.
	RoleWrite Role = "write"
	// RoleAdmin also manages tokens and registers nodes.
	RoleAdmin Role = "admin"
)

// Roles lists the roles of people and programs using the API, weakest
// first.
var Roles = []Role{RoleRead, RoleWrite, RoleAdmin}

// The roles of node agents, outside that order: they include none of the
// others, nor do the others include them.
const (
	// RoleJoin may only be exchanged for node credentials (POST
	// /v1/nodes/{id}/join), as many times as it lasts.
	RoleJoin Role = "join"
	// RoleNode is the credential of one node (Token.Node): on NATS, what
	// that node's agent does; on the API, nothing but /v1/info.
	RoleNode Role = "node"
)

// rank orders the roles; 0 is no role.
func (r Role) rank() int {
	for i, known := range Roles {
		if r == known {
			return i + 1
		}
	}
	return 0
}

// Includes reports whether a token of role r may do what need allows.
// An unknown role includes nothing.
func (r Role) Includes(need Role) bool {
	if need.rank() == 0 {
		// join and node include only themselves.
		return need != "" && r == need
	}
	return r.rank() > 0 && r.rank() >= need.rank()
}

// CheckRole validates a role name. The error matches ErrInvalid.
func CheckRole(r Role) error {
	if r.rank() == 0 && r != RoleJoin && r != RoleNode {
		return invalidf("invalid role %q: want read, write, admin, join or node", r)
	}
	return nil
}

// TokenSpec is what CreateToken makes a token for.
type TokenSpec struct {
	// Namespace is the namespace the token may act in, AllNamespaces for
	// every one.
	Namespace string `json:"namespace"`
	// Role is what it may do there.
	Role Role `json:"role"`
	// TTL is how long it lasts, at least a second; 0 forever.
	TTL time.Duration `json:"-"`
	// Description says whom or what it is for.
	Description string `json:"description,omitempty"`
	// Node is the node a RoleNode token is the credential of; "" for
	// every other role.
	Node string `json:"node,omitempty"`
}

// Check validates the spec. The error matches ErrInvalid.
func (s TokenSpec) Check() error {
	if err := s.checkNode(); err != nil {
		return err
	}
	if s.Namespace != AllNamespaces {
		if err := CheckNamespace(s.Namespace); err != nil {
			return invalidf("%v (or %q for every namespace)", err, AllNamespaces)
		}
	}
	if err := CheckRole(s.Role); err != nil {
		return err
	}
	if s.TTL < 0 || s.TTL > 0 && s.TTL < time.Second {
		return invalidf("invalid token ttl %s: want a second or more, or none", s.TTL)
	}
	if len(s.Description) > MaxTokenDescription {
		return invalidf("token description of %d bytes: at most %d", len(s.Description), MaxTokenDescription)
	}
	return nil
}

// checkNode checks that a node credential names its node, for every
// namespace, and that no other token names one.
func (s TokenSpec) checkNode() error {
	switch {
	case s.Role == RoleNode && s.Node == "":
		return invalidf("a node token needs the node it is the credential of")
	case s.Role == RoleNode:
		if err := CheckNodeID(s.Node); err != nil {
			return err
		}
	case s.Node != "":
		return invalidf("only a node token names a node, not a %s token", s.Role)
	}
	if (s.Role == RoleNode || s.Role == RoleJoin) && s.Namespace != AllNamespaces {
		return invalidf("a %s token is for every namespace (%q), not %s", s.Role, AllNamespaces, s.Namespace)
	}
	return nil
}

// Token is a stored token as it is shown: its id and scope, never its
// secret.
type Token struct {
	ID        string    `json:"id"`
	Namespace string    `json:"namespace"`
	Role      Role      `json:"role"`
	Created   time.Time `json:"created"`
	// Expires is when it stops being accepted; zero for never.
	Expires     time.Time `json:"expires,omitzero"`
	Description string    `json:"description,omitempty"`
	// Node is the node of a RoleNode token.
	Node string `json:"node,omitempty"`
}

// Expired reports whether t is no longer accepted at now.
func (t Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// Covers reports whether t may act in namespace ns.
func (t Token) Covers(ns string) bool {
	return t.Namespace == AllNamespaces || t.Namespace == ns
}

// tokenRecord is a token as stored: Token and the hash of its secret.
type tokenRecord struct {
	Token
	SecretSHA256 string `json:"secret_sha256"`
}

// CheckTokenID validates a token id: 16 lowercase hex digits. The error
// matches ErrInvalid.
func CheckTokenID(id string) error {
	if len(id) != 2*tokenIDBytes || !isHex(id) {
		return invalidf("invalid token id %q: want %d lowercase hex digits", id, 2*tokenIDBytes)
	}
	return nil
}

// CreateToken stores a new token for spec and returns it with its secret,
// the whole "mst_<id>_<secret>" to give as a bearer token. The secret is
// not stored: it cannot be shown again.
func (s *Store) CreateToken(ctx context.Context, spec TokenSpec) (Token, string, error) {
	if err := spec.Check(); err != nil {
		return Token{}, "", err
	}
	kv, err := s.kv(ctx, bucketTokens)
	if err != nil {
		return Token{}, "", err
	}
	idb, secret := make([]byte, tokenIDBytes), make([]byte, tokenSecretBytes)
	if _, err := rand.Read(idb); err != nil {
		return Token{}, "", err
	}
	if _, err := rand.Read(secret); err != nil {
		return Token{}, "", err
	}
	// Whole seconds, as a listing shows them.
	now := time.Now().UTC()
	rec := tokenRecord{Token: Token{ID: hex.EncodeToString(idb), Namespace: spec.Namespace, Role: spec.Role,
		Created: now.Truncate(time.Second), Description: spec.Description, Node: spec.Node}}
	if spec.TTL > 0 {
		rec.Expires = now.Add(spec.TTL).Truncate(time.Second)
	}
	sum := sha256.Sum256([]byte(hex.EncodeToString(secret)))
	rec.SecretSHA256 = hex.EncodeToString(sum[:])
	val, err := json.Marshal(rec)
	if err != nil {
		return Token{}, "", err
	}
	if _, err := s.kvCreate(ctx, kv, rec.ID, val); err != nil {
		return Token{}, "", fmt.Errorf("store token %s: %w", rec.ID, err)
	}
	return rec.Token, TokenPrefix + rec.ID + "_" + hex.EncodeToString(secret), nil
}

// Tokens returns every stored token, expired ones included, oldest first
// (then by id).
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	kv, err := s.kv(ctx, bucketTokens)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, ">")
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	out := make([]Token, 0, len(entries))
	for _, e := range entries {
		rec, err := decodeToken(e.Key(), e.Value())
		if err != nil {
			return nil, err
		}
		out = append(out, rec.Token)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RevokeToken deletes the token id: it is refused from now on. A token
// that is not stored is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if err := CheckTokenID(id); err != nil {
		return err
	}
	kv, err := s.kv(ctx, bucketTokens)
	if err != nil {
		return err
	}
	e, err := kv.Get(ctx, id)
	if isNotFound(err) {
		return notFound("token %s", id)
	} else if err != nil {
		return fmt.Errorf("read token %s: %w", id, err)
	}
	// Purged, not only deleted: nothing of a revoked token stays.
	if err := s.kvDelete(ctx, kv, id, 0, true); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if rec, err := decodeToken(id, e.Value()); err == nil && rec.Role == RoleNode {
		s.disconnectNode(rec.Node)
	}
	return nil
}

// disconnectNode closes the connections of node id to the embedded NATS
// server, if this store runs one: a node whose credentials were revoked
// is out at once, not at its next connection. Its agent connects again
// if it holds other valid credentials.
func (s *Store) disconnectNode(id string) {
	if s.srv == nil {
		return
	}
	connz, err := s.srv.Connz(&server.ConnzOptions{User: "node:" + id, Limit: 1024})
	if err != nil {
		return
	}
	for _, c := range connz.Conns {
		if err := s.srv.DisconnectClientByID(c.Cid); err == nil {
			s.log().Info("disconnected a node whose credentials were revoked", "node", id, "connection", c.Cid)
		}
	}
}

// AuthenticateToken returns the stored token whose whole text
// ("mst_<id>_<secret>") is given, comparing the secret's hash in constant
// time. A malformed, unknown, revoked or expired token fails with an
// error matching ErrBadToken; other errors are the store's.
func (s *Store) AuthenticateToken(ctx context.Context, token string) (Token, error) {
	return s.authenticateAt(ctx, token, time.Now())
}

// authenticateAt is AuthenticateToken at the time now.
func (s *Store) authenticateAt(ctx context.Context, token string, now time.Time) (Token, error) {
	id, secret, ok := splitToken(token)
	if !ok {
		return Token{}, badToken("not a muster token (%sID_SECRET)", TokenPrefix)
	}
	kv, err := s.kv(ctx, bucketTokens)
	if err != nil {
		return Token{}, err
	}
	e, err := kvGet(ctx, kv, id)
	if isNotFound(err) {
		return Token{}, badToken("token %s is unknown or revoked", id)
	}
	if err != nil {
		return Token{}, fmt.Errorf("read token %s: %w", id, err)
	}
	rec, err := decodeToken(id, e.Value())
	if err != nil {
		return Token{}, err
	}
	got := sha256.Sum256([]byte(secret))
	want, err := hex.DecodeString(rec.SecretSHA256)
	if err != nil || subtle.ConstantTimeCompare(got[:], want) != 1 {
		return Token{}, badToken("token %s: wrong secret", id)
	}
	if rec.Expired(now) {
		return Token{}, badToken("token %s expired at %s", id, rec.Expires.Format(time.RFC3339))
	}
	return rec.Token, nil
}

// splitToken cuts "mst_<id>_<secret>" into its id and secret.
func splitToken(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || CheckTokenID(id) != nil || len(secret) != 2*tokenSecretBytes || !isHex(secret) {
		return "", "", false
	}
	return id, secret, true
}

// IsScopedToken reports whether token has the form of a scoped token
// ("mst_<id>_<secret>"), without looking it up.
func IsScopedToken(token string) bool {
	_, _, ok := splitToken(token)
	return ok
}

func decodeToken(id string, b []byte) (tokenRecord, error) {
	var rec tokenRecord
	if err := json.Unmarshal(b, &rec); err != nil || rec.ID != id {
		return tokenRecord{}, fmt.Errorf("token %s: damaged record: %w", id, ErrDamaged)
	}
	return rec, nil
}

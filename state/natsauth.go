package state

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Who may connect to the embedded NATS server. Every connection, the
// control plane's own in-process one included, presents a credential:
//
//   - the control plane's, a random secret made when the store opens and
//     never written anywhere (user ControlUser): everything;
//   - the bootstrap token (MUSTER_TOKEN), when the control plane has one,
//     as a NATS token: everything, as on the API;
//   - a node's, a node token (RoleNode) as the password of the user named
//     after its node: what NodePermissions allow.
//
// Anything else is refused.

// ControlUser is the NATS user of the control plane's own connection.
const ControlUser = "muster-control"

// natsAuthTimeout bounds the look-up of a node token while a node's
// connection waits.
const natsAuthTimeout = 5 * time.Second

// natsAuth authenticates the clients of the embedded NATS server.
type natsAuth struct {
	control   [32]byte // sha256 of the control plane's secret
	bootstrap [32]byte // sha256 of the bootstrap token; zero when none
	hasToken  bool
	// store looks node tokens up once the store is open; nil before.
	store atomic.Pointer[Store]
}

// newNATSAuth makes the authentication of a server whose bootstrap token
// is token ("" for none), and the secret of the control plane's user.
func newNATSAuth(token string) (*natsAuth, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", err
	}
	secret := hex.EncodeToString(b)
	a := &natsAuth{control: sha256.Sum256([]byte(secret)), hasToken: token != ""}
	if token != "" {
		a.bootstrap = sha256.Sum256([]byte(token))
	}
	return a, secret, nil
}

// Check implements server.Authentication.
func (a *natsAuth) Check(c server.ClientAuthentication) bool {
	o := c.GetOpts()
	switch {
	case o.Username == ControlUser:
		if !same(o.Password, a.control) {
			return false
		}
		c.RegisterUser(&server.User{Username: ControlUser})
		return true
	case o.Username == "" && o.Token != "":
		if !a.hasToken || !same(o.Token, a.bootstrap) {
			return false
		}
		c.RegisterUser(&server.User{Username: "muster-bootstrap"})
		return true
	case o.Username != "":
		if !a.nodeToken(o.Username, o.Password) {
			return false
		}
		c.RegisterUser(&server.User{Username: "node:" + o.Username, Permissions: NodePermissions(o.Username)})
		return true
	}
	return false
}

// nodeToken reports whether token is a live node token of node id.
func (a *natsAuth) nodeToken(id, token string) bool {
	st := a.store.Load()
	if st == nil || CheckNodeID(id) != nil || !IsScopedToken(token) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), natsAuthTimeout)
	defer cancel()
	t, err := st.AuthenticateToken(ctx, token)
	if err != nil {
		st.log().Warn("refused a NATS connection", "user", id, "err", err)
		return false
	}
	return t.Role == RoleNode && t.Node == id
}

// same compares secret with a sha256 in constant time.
func same(secret string, sum [32]byte) bool {
	got := sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], sum[:]) == 1
}

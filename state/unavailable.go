package state

import (
	"errors"
	"net/http"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Unavailable reports whether err says that JetStream could not take the
// request at all for now, so that nothing was read or written and the
// same request may simply be sent again: the cluster is electing a leader
// or a healed server is catching up (JetStream's 503), or no server
// answered for the stream (no responders). A timeout is not one of them:
// a write that timed out may have been stored.
func Unavailable(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == http.StatusServiceUnavailable {
		return true
	}
	if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, jetstream.ErrNoStreamResponse) {
		return true
	}
	// A 503 status message (to a watch's consumer, a direct get) reaches
	// the caller as the server's description in a plain error.
	return err != nil && strings.Contains(err.Error(), "JetStream system temporarily unavailable")
}

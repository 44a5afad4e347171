package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/muster-dev/muster/state"
)

// The event stream, GET /v1/events?namespace=NS&name=NAME: newline-delimited
// JSON Event values, one per line, flushed after each. A stream that has
// nothing to send for streamBeat sends an empty line, so that a client
// tells a quiet stream from a control plane that hangs (streamIdle).

// streamBeat is how long an event stream stays silent at most; streamIdle
// is how long a client waits for a byte before it takes the stream for
// broken.
var (
	streamBeat = 5 * time.Second
	streamIdle = 3 * streamBeat
)

// eventsBuffer is how many events the client buffers ahead of a slow
// reader; beyond that it stops reading the stream until the reader
// catches up.
const eventsBuffer = 64

// events streams the events of one job, or of every job when name is "".
// The namespace defaults to "default" when a name is given. The response
// headers are flushed as soon as the subscription is registered, so that a
// client knows it is subscribed before it triggers a rollout.
func (s *server) events(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ns, name := q.Get("namespace"), q.Get("name")
	switch {
	case name != "":
		if ns == "" {
			ns = "default"
		}
		if err := checkJobRef(ns, name); err != nil {
			return err
		}
	case ns != "":
		if err := bad(state.CheckNamespace(ns)); err != nil {
			return err
		}
	}
	// A token for one namespace follows the events of that namespace.
	if p := principalOf(r); ns == "" && p.namespace != state.AllNamespaces {
		ns = p.namespace
	} else if err := p.allowsNamespace(ns); ns != "" && err != nil {
		return err
	}
	ctx := r.Context()
	ch, err := s.c.Events(ctx, ns, name)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", contentNDJSON)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_ = rc.Flush()
	enc := json.NewEncoder(w)
	beat := time.NewTicker(streamBeat)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			if _, err := w.Write([]byte("\n")); err != nil || rc.Flush() != nil {
				return nil
			}
		case ev, ok := <-ch:
			beat.Reset(streamBeat)
			if !ok {
				return nil
			}
			if err := enc.Encode(ev); err != nil {
				return nil
			}
			if err := rc.Flush(); err != nil {
				return nil
			}
		}
	}
}

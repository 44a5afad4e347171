package state

import (
	"time"

	"github.com/nats-io/nats.go"
)

// watchConnection records when the store's connection to NATS comes back
// after a loss, until Close.
func (s *Store) watchConnection() {
	s.connBack = s.nc.StatusChanged(nats.CONNECTED)
	go func() {
		for range s.connBack {
			s.reconnected.Store(time.Now().UnixNano())
		}
	}()
}

// ReconnectedAt says when the store's connection to NATS last came back
// after it was lost (to the same server or another of the cluster); the
// zero time if it never was. What this process saw of the store just
// before may be stale: a control plane counts a node's silence from then
// at the earliest.
func (s *Store) ReconnectedAt() time.Time {
	if s.base != nil {
		return s.base.ReconnectedAt()
	}
	if n := s.reconnected.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

package remote

import (
	"sync"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/state"
)

// doneMux receives the Done messages of every execution the clients on
// one connection wait for, through one subscription (DoneSubjects+">"),
// and hands each to the waiter of its subject. A subscription per
// execution cost a subscribe and an unsubscribe at both ends, and a
// change of the server's subject index, for every execution.
type doneMux struct {
	sub *nats.Subscription
	mu  sync.Mutex
	// waiting holds the channel of each Done subject waited for.
	waiting map[string]chan *nats.Msg
}

// doneMuxes holds the doneMux of each connection; muxes guards it.
var (
	muxes     sync.Mutex
	doneMuxes = map[*nats.Conn]*doneMux{}
)

// doneMuxOf returns the doneMux of nc, subscribing on first use (and
// again once the connection was closed and its subscription ended).
func doneMuxOf(nc *nats.Conn) (*doneMux, error) {
	muxes.Lock()
	defer muxes.Unlock()
	if m := doneMuxes[nc]; m != nil && m.sub.IsValid() {
		return m, nil
	}
	// Those of closed connections go.
	for c, m := range doneMuxes {
		if !m.sub.IsValid() {
			delete(doneMuxes, c)
		}
	}
	m := &doneMux{waiting: map[string]chan *nats.Msg{}}
	sub, err := nc.Subscribe(state.DoneSubjects+">", m.deliver)
	if err != nil {
		return nil, err
	}
	// Done messages come in bursts when thousands of executions end at
	// once: none is dropped for want of room (a lost one costs its
	// waiter a ping and a read of the store).
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		sub.Unsubscribe()
		return nil, err
	}
	m.sub = sub
	doneMuxes[nc] = m
	return m, nil
}

// wait registers ch for the Done of subject; the returned func ends the
// wait. Registered before the request is sent on the same connection, it
// cannot miss the Done: the server has the subscription before the
// request, and the agent answers the request first.
func (m *doneMux) wait(subject string, ch chan *nats.Msg) func() {
	m.mu.Lock()
	m.waiting[subject] = ch
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		if m.waiting[subject] == ch {
			delete(m.waiting, subject)
		}
		m.mu.Unlock()
	}
}

// deliver hands a Done to its waiter, if any, without blocking (the
// waiter's channel has room for more than the one Done it waits for).
func (m *doneMux) deliver(msg *nats.Msg) {
	m.mu.Lock()
	ch := m.waiting[msg.Subject]
	m.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- msg:
	default:
	}
}

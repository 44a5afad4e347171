package apply

import (
	"strings"
	"sync"
)

// hub fans events out to subscribers. A subscriber that does not keep up
// loses events rather than holding the rollouts back; its channel says so
// with a final event.
type hub struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	job string // "ns/name", "ns/" for a namespace's jobs, or "" for all
	ch  chan Event
}

// wants reports whether the subscriber follows events of job.
func (s *subscriber) wants(job string) bool {
	if strings.HasSuffix(s.job, "/") {
		return strings.HasPrefix(job, s.job)
	}
	return s.job == "" || s.job == job
}

// subscribe returns a channel of the events of job ("" for all) and a
// function that ends the subscription and closes the channel.
func (h *hub) subscribe(job string) (<-chan Event, func()) {
	s := &subscriber{job: job, ch: make(chan Event, 4096)}
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[*subscriber]struct{}{}
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[s]; ok {
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

func (h *hub) publish(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.wants(ev.Job) {
			continue
		}
		select {
		case s.ch <- ev:
		default:
			// Too slow: stop feeding it, so that it notices the gap.
			delete(h.subs, s)
			close(s.ch)
		}
	}
}

package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// JobEvent is one change of a job's status, as WatchJobs sends it.
type JobEvent struct {
	// Job is the status as stored after the change.
	Job JobStatus
	// Err is set on a change that could not be decoded; the watch goes on.
	Err error
}

// WatchJobs sends every change of a job's status made from now on (a
// version recorded, a rollout's progress), by any process, until ctx is
// done or the connection closes, when it closes the channel. A control
// plane that leads learns from it at once of a version recorded through
// another one.
func (s *Store) WatchJobs(ctx context.Context) (<-chan JobEvent, error) {
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return nil, err
	}
	w, err := kv.Watch(ctx, "status.>", jetstream.UpdatesOnly(), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("watch jobs: %w", err)
	}
	return forward(ctx, w, 16, func(e jetstream.KeyValueEntry) (JobEvent, bool) {
		if e == nil {
			return JobEvent{}, false
		}
		var ev JobEvent
		ev.Job, ev.Err = decodeStatus(e)
		return ev, true
	}), nil
}

// followSetup bounds how long FollowEvents takes to set a follow up.
const followSetup = 15 * time.Second

// FollowEvents sends the events stored from now on for job ns/name; with
// name "" those of every job of namespace ns, or of every job when ns is
// "" too. It goes on until ctx is done, then closes the channel. Any
// control plane sharing the store can serve a client's follow this way,
// whichever of them drives the rollout.
func (s *Store) FollowEvents(ctx context.Context, ns, name string) (<-chan Event, error) {
	// Setting the follow up is bounded: a caller waits for it (an API
	// client waits for the stream's headers).
	sctx, cancel := context.WithTimeout(ctx, followSetup)
	defer cancel()
	st, err := s.events(sctx)
	if err != nil {
		return nil, err
	}
	subject := "muster." + s.prefix + "events.>"
	switch {
	case name != "":
		if err := CheckJob(ns, name); err != nil {
			return nil, err
		}
		subject = s.eventSubject(ns, name)
	case ns != "":
		subject = "muster." + s.prefix + "events." + ns + ".*"
	}
	c, err := st.OrderedConsumer(sctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("follow events: %w", err)
	}
	msgs, err := c.Messages()
	if err != nil {
		return nil, fmt.Errorf("follow events: %w", err)
	}
	out := make(chan Event, 64)
	context.AfterFunc(ctx, msgs.Stop)
	go func() {
		defer close(out)
		for {
			m, err := msgs.Next()
			if err != nil {
				return
			}
			var ev Event
			if json.Unmarshal(m.Data(), &ev) != nil || ev.Job == "" {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Event is one step of a rollout or of an execution's life, as progress
// views print it and the store keeps it.
type Event struct {
	Time time.Time `json:"time"`
	// Job is "<namespace>/<name>".
	Job     string `json:"job"`
	Version int    `json:"version"`
	// Kind says what happened: one of EventKinds.
	Kind EventKind `json:"kind"`
	// Wave is 0 for the canary set, 1.. for the waves.
	Wave      int    `json:"wave"`
	Node      string `json:"node,omitempty"`
	Execution string `json:"execution,omitempty"`
	// State is the execution's compute state or the job's state.
	State   string `json:"state,omitempty"`
	Message string `json:"message,omitempty"`
	// Health is how far a running execution of a long-running job got
	// toward healthy, on the execution events sent after each of its
	// health checks until it is healthy; nil on every other event.
	Health *HealthProgress `json:"health,omitempty"`
	// Phase is where the slot that keeps a long-running execution alive
	// went (one of the SlotPhases: starting, probing, healthy, unhealthy,
	// restarting, retiring, ended), on the execution event of each of its
	// steps; empty on every other event.
	Phase string `json:"phase,omitempty"`
	// Launch is the id of the launch (state.Launch) the event is about, on
	// the events of a launch's run and on EventLaunch; empty on others.
	Launch string `json:"launch,omitempty"`
	// Probe is what a probe of the execution found, on EventProbe events.
	Probe *ProbeReport `json:"probe,omitempty"`
}

// ProbeReport is one probe's outcome (rollout.health_check.probe).
type ProbeReport struct {
	// Kind is "http", "tcp" or "exec".
	Kind string `json:"kind"`
	// OK says the probe passed.
	OK bool `json:"ok"`
	// Message says what it found.
	Message string `json:"message,omitempty"`
	// Millis is how long it took, in milliseconds.
	Millis float64 `json:"ms"`
	// Failures is how many probes failed in a row, this one included.
	Failures int `json:"failures,omitempty"`
}

// EventKind says what an Event reports.
type EventKind string

// The kinds of Event.
const (
	// EventRolloutStarted: a rollout of the version starts (or resumes).
	EventRolloutStarted EventKind = "rollout_started"
	// EventWaveStarted: a set of nodes (Wave 0: the canary) starts.
	EventWaveStarted EventKind = "wave_started"
	// EventExecution: an execution changed; State is its compute state,
	// or healthy/unhealthy for a health verdict.
	EventExecution EventKind = "execution"
	// EventCanaryPaused: the rollout waits for 'muster promote'.
	EventCanaryPaused EventKind = "canary_paused"
	// EventRolloutFailed: the rollout broke its limits.
	EventRolloutFailed EventKind = "rollout_failed"
	// EventRolledBack: the last stable spec was recorded as a new version.
	EventRolledBack EventKind = "rolled_back"
	// EventCompleted: every execution of a batch or ops version completed.
	EventCompleted EventKind = "completed"
	// EventQueued: no node can take the version yet.
	EventQueued EventKind = "queued"
	// EventPromoted: a paused canary rollout goes on.
	EventPromoted EventKind = "promoted"
	// EventDeployed: every set of a long-running version is healthy.
	EventDeployed EventKind = "deployed"
	// EventHealth: a deployed long-running job became running or
	// degraded, or was taken over.
	EventHealth EventKind = "health"
	// EventNode: a node's agent joined or went silent (Job is empty).
	EventNode EventKind = "node"
	// EventLeader: this control plane started or stopped leading (Job is
	// empty), or stopped leading while it rolled Job out (the control plane
	// that leads now goes on with that rollout).
	EventLeader EventKind = "leader"
	// EventFinished is the last event of a rollout in a long-lived control
	// plane; State is where it left the job.
	EventFinished EventKind = "finished"
	// EventProbe: a probe of an execution passed after failing (or for
	// the first time), or failed; Probe says what it found.
	EventProbe EventKind = "probe"
	// EventLaunch: a periodic job launched, or a time of its schedule was
	// skipped or missed; Launch names the record and State its state.
	EventLaunch EventKind = "launch"
)

// EventKinds lists every kind of Event.
var EventKinds = []EventKind{
	EventRolloutStarted, EventWaveStarted, EventExecution, EventCanaryPaused, EventRolloutFailed,
	EventRolledBack, EventCompleted, EventQueued, EventPromoted, EventDeployed, EventHealth,
	EventNode, EventLeader, EventFinished, EventProbe, EventLaunch,
}

// HealthProgress counts what an execution still needs to become healthy
// (docs/spec.md section 2, rollout.health_check): success_threshold checks passed
// in a row, and running for min_healthy_time.
type HealthProgress struct {
	// Passed is how many health checks passed in a row.
	Passed int `json:"passed"`
	// SuccessThreshold is how many it needs.
	SuccessThreshold int `json:"success_threshold"`
	// RanSeconds is how long it has run (since it was last seen start).
	RanSeconds float64 `json:"ran_seconds"`
	// MinHealthySeconds is how long it needs to run.
	MinHealthySeconds float64 `json:"min_healthy_seconds"`
}

// eventsKept is how many events the store keeps per job; older ones go.
const eventsKept = 200

// eventsStream is the stream of stored events; eventSubject(job) its
// subject for one job.
const eventsStream = "events"

func (s *Store) eventSubject(ns, name string) string {
	return "muster." + s.prefix + "events." + ns + "." + name
}

// events returns the events stream, creating or updating it on first use;
// an update keeps the stream's replicas where it has more.
func (s *Store) events(ctx context.Context) (jetstream.Stream, error) {
	if s.base != nil {
		return s.base.events(ctx) // a fenced view shares its store's stream
	}
	if s.base != nil {
		return s.base.events(ctx) // a fenced view shares its store's stream
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.eventStream != nil {
		return s.eventStream, nil
	}
	cfg := jetstream.StreamConfig{
		Name:              s.prefix + eventsStream,
		Description:       "muster rollout and execution events, the newest of each job",
		Subjects:          []string{"muster." + s.prefix + "events.>"},
		MaxMsgsPerSubject: eventsKept,
		Discard:           jetstream.DiscardOld,
		Storage:           jetstream.FileStorage,
		Replicas:          s.replicas,
	}
	cfg.AllowAtomicPublish = true // fenced writes (Lease.Fenced) are atomic batches
	st, err := s.createOrUpdateStream(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open the events stream: %w", err)
	}
	s.eventStream = st
	return st, nil
}

// AppendEvent stores ev among its job's events; the oldest beyond the
// newest 200 go. Events without a job (a node joining) are not stored.
func (s *Store) AppendEvent(ctx context.Context, ev Event) error {
	if ev.Job == "" {
		return nil
	}
	x := Execution{JobID: ev.Job}
	ns, name, err := x.JobRef()
	if err != nil {
		return err
	}
	if _, err := s.events(ctx); err != nil {
		return err
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	if err := s.publish(ctx, s.eventSubject(ns, name), b); err != nil {
		return fmt.Errorf("store an event of %s: %w", ev.Job, err)
	}
	return nil
}

// JobEvents returns the newest last events of job ns/name, oldest first.
func (s *Store) JobEvents(ctx context.Context, ns, name string, last int) ([]Event, error) {
	if err := CheckJob(ns, name); err != nil {
		return nil, err
	}
	st, err := s.events(ctx)
	if err != nil {
		return nil, err
	}
	subject := s.eventSubject(ns, name)
	info, err := st.Info(ctx, jetstream.WithSubjectFilter(subject))
	if err != nil {
		return nil, fmt.Errorf("read the events of %s: %w", jobWhat(ns, name), err)
	}
	if info.State.Subjects[subject] == 0 {
		return nil, nil
	}
	c, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		return nil, fmt.Errorf("read the events of %s: %w", jobWhat(ns, name), err)
	}
	batch, err := c.FetchNoWait(eventsKept)
	if err != nil {
		return nil, fmt.Errorf("read the events of %s: %w", jobWhat(ns, name), err)
	}
	var out []Event
	for m := range batch.Messages() {
		var ev Event
		if json.Unmarshal(m.Data(), &ev) == nil {
			out = append(out, ev)
		}
	}
	if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
		return nil, fmt.Errorf("read the events of %s: %w", jobWhat(ns, name), err)
	}
	if last > 0 && len(out) > last {
		out = out[len(out)-last:]
	}
	return out, nil
}

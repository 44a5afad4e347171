package api

import (
	"time"

	"github.com/muster-dev/muster/state"
)

// Event is one step of a rollout or of an execution's life as the API
// sends it: a line of GET /v1/events, an element of GET
// /v1/jobs/{ns}/{name}/events. It is the API's own type, so that the API
// does not depend on the rollout engine: the control plane converts the
// engine's events to it (EventFromState), and its JSON is the contract
// docs/api.md describes, field for field the JSON of the events the store
// keeps (state.Event).
//
// The zero Event is an event of no job, kind "", at the zero time.
type Event struct {
	// Time is when it happened.
	Time time.Time `json:"time"`
	// Job is "<namespace>/<name>"; empty for an event of a node.
	Job string `json:"job"`
	// Version is the job version the event is about.
	Version int `json:"version"`
	// Kind says what happened: rollout_started, wave_started, execution,
	// queued, canary_paused, promoted, rollout_failed, rolled_back,
	// completed, deployed, health, probe, node or finished (the rollout
	// engine, package apply, names them).
	Kind string `json:"kind"`
	// Wave is 0 for the canary set, 1.. for the waves.
	Wave int `json:"wave"`
	// Node is the node of an execution event, or the node that joined or
	// went silent.
	Node string `json:"node,omitempty"`
	// Execution is the id of the execution an execution event is about.
	Execution string `json:"execution,omitempty"`
	// State is the execution's compute state or the job's state.
	State string `json:"state,omitempty"`
	// Message says what happened in words.
	Message string `json:"message,omitempty"`
	// Health is how far a running execution of a long-running job got
	// toward healthy, on the execution events sent after each of its
	// health checks until it is healthy; nil on every other event.
	Health *HealthProgress `json:"health,omitempty"`
	// Phase is the step the slot of a service's or daemon's execution
	// took (starting, probing, healthy, unhealthy, restarting, retiring,
	// ended), on its execution events; empty otherwise.
	Phase string `json:"phase,omitempty"`
	// Launch is the id of the launch of a periodic (or launched) job the
	// event is about, on launch events and the events of a launch's run.
	Launch string `json:"launch,omitempty"`
	// Probe is what a probe of the execution found, on probe events.
	Probe *ProbeReport `json:"probe,omitempty"`
}

// ProbeReport is what one probe of an execution found
// (rollout.health_check.probe).
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

// HealthProgress counts what an execution still needs to become healthy:
// success_threshold checks passed in a row, and running for
// min_healthy_time.
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

// EventFromState returns the API's form of an event as the rollout engine
// sends it and the store keeps it.
func EventFromState(ev state.Event) Event {
	out := Event{
		Time:      ev.Time,
		Job:       ev.Job,
		Version:   ev.Version,
		Kind:      string(ev.Kind),
		Wave:      ev.Wave,
		Node:      ev.Node,
		Execution: ev.Execution,
		State:     ev.State,
		Message:   ev.Message,
		Phase:     ev.Phase,
		Launch:    ev.Launch,
	}
	if h := ev.Health; h != nil {
		out.Health = &HealthProgress{Passed: h.Passed, SuccessThreshold: h.SuccessThreshold, RanSeconds: h.RanSeconds, MinHealthySeconds: h.MinHealthySeconds}
	}
	if p := ev.Probe; p != nil {
		out.Probe = &ProbeReport{Kind: p.Kind, OK: p.OK, Message: p.Message, Millis: p.Millis, Failures: p.Failures}
	}
	return out
}

// ToState returns the event as the store keeps it; EventFromState undoes
// it.
func (e Event) ToState() state.Event {
	out := state.Event{
		Time:      e.Time,
		Job:       e.Job,
		Version:   e.Version,
		Kind:      state.EventKind(e.Kind),
		Wave:      e.Wave,
		Node:      e.Node,
		Execution: e.Execution,
		State:     e.State,
		Message:   e.Message,
		Phase:     e.Phase,
		Launch:    e.Launch,
	}
	if h := e.Health; h != nil {
		out.Health = &state.HealthProgress{Passed: h.Passed, SuccessThreshold: h.SuccessThreshold, RanSeconds: h.RanSeconds, MinHealthySeconds: h.MinHealthySeconds}
	}
	if p := e.Probe; p != nil {
		out.Probe = &state.ProbeReport{Kind: p.Kind, OK: p.OK, Message: p.Message, Millis: p.Millis, Failures: p.Failures}
	}
	return out
}

// eventsFromState converts stored events to the API's.
func eventsFromState(evs []state.Event) []Event {
	out := make([]Event, len(evs))
	for i, ev := range evs {
		out[i] = EventFromState(ev)
	}
	return out
}

// eventsToState converts events read from the API to the store's; nil
// stays nil, and an empty list empty.
func eventsToState(evs []Event) []state.Event {
	if evs == nil {
		return nil
	}
	out := make([]state.Event, len(evs))
	for i, ev := range evs {
		out[i] = ev.ToState()
	}
	return out
}

package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/muster-dev/muster/state"
)

// rollouts answers GET /v1/jobs/{ns}/{name}/rollouts.
func (s *server) rollouts(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	out, err := s.b.Rollouts(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(out))
	return nil
}

// jobEvents answers GET /v1/jobs/{ns}/{name}/events?last=N: the stored
// events of a job, oldest first.
func (s *server) jobEvents(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	last := 0
	if v := r.URL.Query().Get("last"); v != "" {
		if last, err = strconv.Atoi(v); err != nil || last < 0 {
			return &badRequest{msg: "last=" + v + ": want a count of 0 or more"}
		}
	}
	out, err := s.b.JobEvents(r.Context(), ns, name, last)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, eventsFromState(out))
	return nil
}

// Rollouts returns the rollout records of job ns/name, oldest first.
func (c *Client) Rollouts(ctx context.Context, ns, name string) ([]state.Rollout, error) {
	var out []state.Rollout
	p, err := jobPath(ns, name)
	if err != nil {
		return nil, err
	}
	err = c.call(ctx, http.MethodGet, p+"/rollouts", nil, nil, &out)
	return out, err
}

// JobEvents returns the newest last stored events of job ns/name (all it
// keeps when last is 0), oldest first.
func (c *Client) JobEvents(ctx context.Context, ns, name string, last int) ([]state.Event, error) {
	p, err := jobPath(ns, name)
	if err != nil {
		return nil, err
	}
	var wire []Event
	if err := c.call(ctx, http.MethodGet, p+"/events", url.Values{"last": {strconv.Itoa(last)}}, nil, &wire); err != nil {
		return nil, err
	}
	return eventsToState(wire), nil
}

package api

import (
	"context"
	"net/http"

	"github.com/muster-dev/muster/state"
)

// launches answers GET /v1/jobs/{ns}/{name}/launches.
func (s *server) launches(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	out, err := s.b.Launches(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(out))
	return nil
}

// launch answers POST /v1/jobs/{ns}/{name}/launch.
func (s *server) launch(w http.ResponseWriter, r *http.Request) error {
	ns, name, err := jobRef(r)
	if err != nil {
		return err
	}
	l, err := s.c.Launch(r.Context(), ns, name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l)
	return nil
}

// Launches returns the launch records of job ns/name, oldest first.
func (c *Client) Launches(ctx context.Context, ns, name string) ([]state.Launch, error) {
	var out []state.Launch
	p, err := jobPath(ns, name)
	if err != nil {
		return nil, err
	}
	err = c.call(ctx, http.MethodGet, p+"/launches", nil, nil, &out)
	return out, err
}

// Launch launches job ns/name now on the control plane and returns the
// launch's record; Events reports its progress.
func (c *Client) Launch(ctx context.Context, ns, name string) (state.Launch, error) {
	var out state.Launch
	p, err := jobPath(ns, name)
	if err != nil {
		return out, err
	}
	err = c.call(ctx, http.MethodPost, p+"/launch", nil, nil, &out)
	return out, err
}

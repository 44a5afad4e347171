package api

import (
	"context"
	"net/http"

	"github.com/muster-dev/muster/state"
)

// check answers GET /v1/check: the whole state checked for damage.
func (s *server) check(w http.ResponseWriter, r *http.Request) error {
	rep, err := s.b.Check(r.Context(), nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// Check asks the control plane to check its whole state for damage.
// progress is not used: the server reports once, at the end.
func (c *Client) Check(ctx context.Context, progress func(string)) (state.CheckReport, error) {
	var rep state.CheckReport
	err := c.call(ctx, http.MethodGet, "/check", nil, nil, &rep)
	return rep, err
}

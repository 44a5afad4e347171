package api

import (
	"context"
	"net/http"
	"net/url"
)

// SensitivePaths returns the paths of the sensitive values recorded for
// the spec stored under hash (see state.Store.SensitivePaths); none when
// none are recorded.
func (c *Client) SensitivePaths(ctx context.Context, hash string) ([]string, error) {
	if err := checkHash("spec", hash); err != nil {
		return nil, err
	}
	var out sensitiveBody
	err := c.call(ctx, http.MethodGet, "/specs/"+url.PathEscape(hash)+"/sensitive", nil, nil, &out)
	return out.Paths, err
}

// AddSensitivePaths records paths as sensitive in the spec stored under
// hash, adding them to those recorded before, and returns them all (see
// state.Store.AddSensitivePaths).
func (c *Client) AddSensitivePaths(ctx context.Context, hash string, paths []string) ([]string, error) {
	if err := checkHash("spec", hash); err != nil {
		return nil, err
	}
	var out sensitiveBody
	err := c.call(ctx, http.MethodPost, "/specs/"+url.PathEscape(hash)+"/sensitive", nil, sensitiveBody{Paths: list(paths)}, &out)
	return out.Paths, err
}

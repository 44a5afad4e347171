// Package boundary holds no code: its tests check which muster packages
// may depend on which (the HTTP API and the remote runner do not depend on
// the rollout engine), so that an import crossing a boundary fails the
// build's tests rather than waiting for a review to notice it.
package boundary

// Package api is the versioned JSON HTTP API of a long-lived muster control
// plane (`muster dev`, `muster server`) and its client. The server serves a
// Backend (the stored state: jobs, versions, specs, executions, nodes,
// documents) and a Control (what needs the running control plane: starting
// and promoting rollouts, stopping jobs, live events, logs). The Client
// implements both interfaces over HTTP, so a command works the same against
// an in-process control plane and a remote one.
//
// Every route is under /v1. Errors are JSON {"error": "...", "code": "..."}
// with code not_found (404), conflict (409), damaged (500), unauthorized (401),
// forbidden (403), rate_limited (429), bad_request (400), too_large (413), unknown_route (404: no such route,
// never taken for a missing record), unavailable (503: no control plane
// leads right now) or internal (500); the client turns
// not_found and conflict back into errors that match state.ErrNotFound and
// state.ErrConflict, and damaged into errors that match state.ErrDamaged
// (see Error).
//
// The routes (NewServer):
//
//	GET  /v1/info                                      Info
//	GET  /v1/jobs                                      []state.JobStatus
//	GET  /v1/jobs/{ns}/{name}                          state.JobStatus
//	GET  /v1/jobs/{ns}/{name}/versions                 []state.Version
//	POST /v1/jobs/{ns}/{name}/versions                 {"hash","base_revision","state"} → state.JobStatus
//	GET  /v1/jobs/{ns}/{name}/executions               []state.Execution
//	GET  /v1/jobs/{ns}/{name}/executions/{id}/logs     ?stream=stdout|stderr&offset=N → raw bytes
//	GET  /v1/jobs/{ns}/{name}/rollouts                 []state.Rollout
//	GET  /v1/jobs/{ns}/{name}/events                   ?last=N → []Event, stored, oldest first
//	POST /v1/jobs/{ns}/{name}/rollout                  {"version","promote"} → 202 {}
//	POST /v1/jobs/{ns}/{name}/promote                  {}
//	POST /v1/jobs/{ns}/{name}/stop                     {"stopped": n}
//	GET  /v1/jobs/{ns}/{name}/launches                 []state.Launch, oldest first
//	POST /v1/jobs/{ns}/{name}/launch                   {} → 201 state.Launch: launched now
//	GET  /v1/events?namespace=NS&name=NAME             newline-delimited Event values
//	GET  /v1/specs/{hash}                              the canonical bytes, as stored
//	GET  /v1/specs?prefix=P                            {"hash"}
//	POST /v1/specs                                     one job (JSON) → {"hash"} of its canonical form
//	GET  /v1/specs/{hash}/sensitive                    {"paths"}: the spec's sensitive paths
//	POST /v1/specs/{hash}/sensitive                    {"paths"} → {"paths"}: adds to them
//	GET  /v1/nodes                                     []NodeView
//	PUT  /v1/nodes/{id}                                state.Node → state.Node
//	POST /v1/documents                                 raw bytes → {"hash","size"}
//	GET  /v1/documents/{hash}                          raw bytes
//	GET  /v1/documents?prefix=P                        {"hash"}
//	GET  /v1/check                                     state.CheckReport
//	POST /v1/tokens                                    {"namespace","role","ttl","description"} → 201 state.Token and {"token"}
//	GET  /v1/tokens                                    []state.Token
//	DELETE /v1/tokens/{id}                             {}
//	PUT  /v1/secrets/{ns}/{name}                       raw value (at most 64 KiB) → state.SecretInfo, never the value
//	GET  /v1/secrets?namespace=NS                      []state.SecretInfo: names, never values
//	DELETE /v1/secrets/{ns}/{name}                     {}
//
// JSON bodies and specs are limited to 4 MiB, documents to 1 GiB. A server
// given a token requires "Authorization: Bearer <token>" on every route: that
// bootstrap token, or a scoped token (state.Store.CreateToken) whose role and
// namespace each route checks (see NewServer); a control plane listening
// beyond loopback (IsLoopback) should have one. See limits.go for the limits
// on headers, failed authentications and event streams.
package api

import (
	"context"
	"io"

	"github.com/muster-dev/muster/state"
)

// Version is the API version, the first segment of every route.
const Version = "v1"

// Backend is the stored state a control plane serves. *state.Store
// implements it.
type Backend interface {
	Job(ctx context.Context, ns, name string) (state.JobStatus, error)
	Jobs(ctx context.Context) ([]state.JobStatus, error)
	History(ctx context.Context, ns, name string) ([]state.Version, error)
	Spec(ctx context.Context, hash string) ([]byte, error)
	ResolveSpec(ctx context.Context, prefix string) (string, error)
	PutSpec(ctx context.Context, canonical []byte) (string, error)
	// SensitivePaths and AddSensitivePaths read and grow the paths of a
	// stored spec's sensitive values, which commands hide when they show
	// that spec (see package sensitive).
	SensitivePaths(ctx context.Context, hash string) ([]string, error)
	AddSensitivePaths(ctx context.Context, hash string, paths []string) ([]string, error)
	CommitVersion(ctx context.Context, ns, name, hash string, baseRevision uint64, st state.JobState) (state.JobStatus, error)
	Executions(ctx context.Context, ns, name string) ([]state.Execution, error)
	// Rollouts returns the rollout records of a job, oldest first.
	Rollouts(ctx context.Context, ns, name string) ([]state.Rollout, error)
	// Launches returns the launch records of a job, oldest first.
	Launches(ctx context.Context, ns, name string) ([]state.Launch, error)
	// JobEvents returns the newest last stored events of a job (all kept
	// when last is 0), oldest first.
	JobEvents(ctx context.Context, ns, name string, last int) ([]state.Event, error)
	Nodes(ctx context.Context) ([]state.Node, error)
	PutNode(ctx context.Context, n state.Node) (state.Node, error)
	PutDocument(ctx context.Context, r io.Reader) (hash string, size int64, err error)
	Document(ctx context.Context, hash string) (io.ReadCloser, error)
	// ResolveDocument expands a unique document hash prefix (at least
	// state.MinPrefix hex digits) to the full hash.
	ResolveDocument(ctx context.Context, prefix string) (string, error)
	// Check reads the whole state and reports what is damaged, changing
	// nothing; progress (may be nil) is told each step.
	Check(ctx context.Context, progress func(string)) (state.CheckReport, error)
}

var _ Backend = (*state.Store)(nil)

// TokenStore manages the scoped API tokens of a control plane (see
// state.Store.CreateToken). *state.Store implements it, and so does the
// Client, over the token routes (which need an admin token).
type TokenStore interface {
	// CreateToken stores a new token and returns it with its secret, the
	// whole bearer token, which is shown this once.
	CreateToken(ctx context.Context, spec state.TokenSpec) (state.Token, string, error)
	// Tokens returns the stored tokens, never their secrets.
	Tokens(ctx context.Context) ([]state.Token, error)
	// RevokeToken deletes a token: it is refused from now on.
	RevokeToken(ctx context.Context, id string) error
}

var _ TokenStore = (*state.Store)(nil)

// SecretStore manages the secrets of a control plane (see
// state.Store.PutSecret). *state.Store implements it, and so does the
// Client, over the secret routes.
type SecretStore interface {
	// PutSecret stores value as the secret ns/name.
	PutSecret(ctx context.Context, ns, name string, value []byte) error
	// Secrets lists the secrets of ns (state.AllNamespaces: every
	// namespace), never their values.
	Secrets(ctx context.Context, ns string) ([]state.SecretInfo, error)
	// DeleteSecret removes the secret ns/name.
	DeleteSecret(ctx context.Context, ns, name string) error
}

var _ SecretStore = (*state.Store)(nil)

// Control is what only a running control plane can do. The control plane
// serves its rollout engine (apply.Controller) through it, converting the
// engine's events to the API's (EventFromState); the Client implements it
// over HTTP.
type Control interface {
	// Info describes the control plane.
	Info(ctx context.Context) (Info, error)
	// Rollout starts rolling out version of a job (already recorded) in the
	// background and returns; Events reports its progress. promote skips a
	// canary pause.
	Rollout(ctx context.Context, ns, name string, version int, promote bool) error
	// Promote continues a canary rollout paused after its canary set.
	Promote(ctx context.Context, ns, name string) error
	// Launch launches a batch or ops job's current version now, as its
	// schedule would, and returns the launch's record; Events reports
	// its progress.
	Launch(ctx context.Context, ns, name string) (state.Launch, error)
	// Stop stops every execution of a job and marks it stopped; it returns
	// how many executions it stopped.
	Stop(ctx context.Context, ns, name string) (int, error)
	// Events sends the rollout and execution events of a job (every job
	// when name is "") from now on, until ctx is done.
	Events(ctx context.Context, ns, name string) (<-chan Event, error)
	// ReadLog returns what an execution wrote to stream ("stdout" or
	// "stderr") from byte offset on, at most 1 MiB; an empty result at the
	// end. It fails with an error matching state.ErrNotFound when no node
	// serving the execution answers.
	ReadLog(ctx context.Context, ns, name, executionID, stream string, offset int64) ([]byte, error)
}

// Info describes a control plane.
type Info struct {
	// APIVersion is Version.
	APIVersion string `json:"api_version"`
	// Mode is "dev" or "server".
	Mode string `json:"mode"`
	// NATSURL is where node agents connect (nats://host:port), without
	// credentials.
	NATSURL string `json:"nats_url"`
	// NodeCredentials says that the NATS server takes only node
	// credentials from agents: an agent joins (POST
	// /v1/nodes/{id}/join) and connects as its node.
	NodeCredentials bool `json:"node_credentials,omitempty"`
	// StateDir is the state directory the control plane holds, "" when
	// its state lives in an external NATS server.
	StateDir string `json:"state_dir,omitempty"`
	// Nodes are the ids of the nodes whose agents run in the control
	// plane's own process.
	Nodes []string `json:"nodes,omitempty"`
	// PID is the control plane's process id.
	PID int `json:"pid"`
}

package runner

import (
	"context"
	"fmt"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/sensitive"
)

// hide notes, for the execution id, the texts of job j's values recorded
// sensitive for its spec (HCL sensitive variables) and of the secrets
// handed to it (SecretsFrom ctx), so that no message the
// agent records or returns shows them: a driver's error may quote a cmd or
// an input source. The returned func forgets them when the run ends.
func (a *Agent) hide(ctx context.Context, id string, j *schema.Job) (func(), error) {
	var spec []byte // encoded only when needed
	paths, given := ctx.Value(sensitiveKey{}).([]string)
	if !given {
		spec = CanonicalOf(ctx, j)
		var err error
		if paths, err = a.Store.SensitivePaths(ctx, schema.HashBytes(spec)); err != nil {
			return nil, fmt.Errorf("execution %s: read which values of its spec are sensitive: %w", id, err)
		}
	}
	var values []string
	if len(paths) > 0 {
		if spec == nil {
			spec = CanonicalOf(ctx, j)
		}
		var err error
		if values, err = sensitive.Values(spec, paths); err != nil {
			return func() {}, err
		}
	}
	// The values of the execution's secrets are hidden as sensitive ones.
	values = append(values, SecretsFrom(ctx).texts()...)
	if len(values) == 0 {
		return func() {}, nil
	}
	a.hidden.Store(id, values)
	return func() { a.hidden.Delete(id) }, nil
}

// redact shows the sensitive values of execution id in msg as (sensitive).
func (a *Agent) redact(id, msg string) string {
	v, ok := a.hidden.Load(id)
	if !ok {
		return msg
	}
	return sensitive.Redact(msg, v.([]string))
}

// sensitiveKey is the context key of the sensitive paths of a run's spec.
type sensitiveKey struct{}

// WithSensitivePaths returns ctx carrying the paths of the sensitive
// values of the spec a run runs, as the control plane sent them: the
// agent then does not read them from the store.
func WithSensitivePaths(ctx context.Context, paths []string) context.Context {
	if paths == nil {
		paths = []string{}
	}
	return context.WithValue(ctx, sensitiveKey{}, paths)
}

// SensitivePathsFrom returns the paths WithSensitivePaths put in ctx, and
// whether it did.
func SensitivePathsFrom(ctx context.Context) ([]string, bool) {
	paths, ok := ctx.Value(sensitiveKey{}).([]string)
	return paths, ok
}

// canonicalKey is the context key of the canonical bytes of a run's job.
type canonicalKey struct{}

// WithCanonical returns ctx carrying spec, the canonical bytes of the job
// the runs under it run (schema.Job.Canonical), so that a control plane
// running thousands of executions of one job encodes it once.
func WithCanonical(ctx context.Context, spec []byte) context.Context {
	return context.WithValue(ctx, canonicalKey{}, spec)
}

// CanonicalOf returns the canonical bytes of j: those ctx carries
// (WithCanonical), else j.Canonical().
func CanonicalOf(ctx context.Context, j *schema.Job) []byte {
	if spec, ok := ctx.Value(canonicalKey{}).([]byte); ok && spec != nil {
		return spec
	}
	return j.Canonical()
}

package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// secretReader is the store of secrets: *state.Store reads and decrypts
// them. A Store that is not one has no secrets.
type secretReader interface {
	Secret(ctx context.Context, ns, name string) ([]byte, error)
}

// resolveSecrets reads the values of the secrets j refers to. When one
// cannot be had, missing says why ("secret ns/name does not exist"), and
// naming it, never a value. The values are held in memory only, for the
// runners of the rollout's executions (runner.WithSecrets).
func resolveSecrets(ctx context.Context, st Store, j *schema.Job) (_ runner.Secrets, missing string) {
	refs := j.Task.SecretRefs()
	if len(refs) == 0 {
		return nil, ""
	}
	if p, ok := st.(patient); ok {
		st = p.Store
	}
	sr, ok := st.(secretReader)
	if !ok {
		return nil, fmt.Sprintf("secret %s cannot be read: this control plane stores no secrets", refs[0])
	}
	out := make(runner.Secrets, len(refs))
	for _, ref := range refs {
		v, err := sr.Secret(ctx, ref.Namespace, ref.Name)
		switch {
		case errors.Is(err, state.ErrNotFound):
			return nil, fmt.Sprintf("secret %s does not exist", ref)
		case err != nil:
			return nil, fmt.Sprintf("secret %s cannot be read: %v", ref, err)
		}
		out[ref.String()] = v
	}
	return out, ""
}

// secretTexts returns the values of s as texts, for redaction.
func secretTexts(s runner.Secrets) []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if len(v) > 0 {
			out = append(out, string(v))
		}
	}
	return out
}

// withSecrets returns ctx carrying the rollout's secrets for the runner
// of one of its executions, the paths of its spec's sensitive values as
// the rollout read them when it started, and the spec's canonical bytes.
func (r *rollout) withSecrets(ctx context.Context) context.Context {
	ctx = runner.WithSensitivePaths(runner.WithSecrets(ctx, r.secrets), r.sensitivePaths)
	if r.canonical != nil {
		ctx = runner.WithCanonical(ctx, r.canonical)
	}
	return ctx
}

package plan

import (
	"context"
	"fmt"
	"slices"

	"github.com/muster-dev/muster/schema"
)

// SecretState is what planning reads of stored state when it also knows
// which secrets are stored. A State that implements it has every job that
// refers to a secret not stored warned about: its executions would queue
// until the secret is stored.
type SecretState interface {
	State
	// SecretNames returns the names of the secrets stored in namespace
	// ns; never their values.
	SecretNames(ctx context.Context, ns string) ([]string, error)
}

// secretWarnings returns a warning for every secret j refers to that is not
// stored; names caches the names of each namespace's secrets.
func secretWarnings(ctx context.Context, st State, j *schema.Job, names map[string][]string) []string {
	refs := j.Task.SecretRefs()
	ss, ok := st.(SecretState)
	if len(refs) == 0 || !ok {
		return nil
	}
	var out []string
	for _, ref := range refs {
		have, cached := names[ref.Namespace]
		if !cached {
			var err error
			if have, err = ss.SecretNames(ctx, ref.Namespace); err != nil {
				return append(out, fmt.Sprintf("the secrets this job refers to could not be checked: %v", err))
			}
			names[ref.Namespace] = have
		}
		if !slices.Contains(have, ref.Name) {
			out = append(out, fmt.Sprintf("secret %s does not exist: the executions of this version queue until it is stored ('muster secret put %s')", ref, ref))
		}
	}
	return out
}

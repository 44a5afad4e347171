package cli

import (
	"context"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/sensitive"
	"github.com/muster-dev/muster/state"
)

// hideExecutionMessages shows, in the messages of executions of job ns/name,
// the values recorded sensitive for the spec of their version as
// (sensitive). A node agent records a driver's error as it is, and that
// error may quote a cmd or an input source.
func hideExecutionMessages(ctx context.Context, st api.Backend, ns, name string, execs []state.Execution) error {
	versions, err := st.History(ctx, ns, name)
	if err != nil || len(execs) == 0 {
		return nil // no versions: no spec to hide anything of
	}
	hashes := map[int]string{}
	for _, v := range versions {
		hashes[v.Version] = v.Hash
	}
	values := map[int][]string{}
	for i := range execs {
		x := &execs[i]
		hide, ok := values[x.JobVersion]
		if !ok {
			if hide, err = specValues(ctx, st, hashes[x.JobVersion]); err != nil {
				return err
			}
			values[x.JobVersion] = hide
		}
		x.Status.Message = sensitive.Redact(x.Status.Message, hide)
	}
	return nil
}

// specValues returns the texts of the values recorded sensitive for the
// spec of hash.
func specValues(ctx context.Context, st api.Backend, hash string) ([]string, error) {
	if hash == "" {
		return nil, nil
	}
	paths, err := st.SensitivePaths(ctx, hash)
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	spec, err := st.Spec(ctx, hash)
	if err != nil {
		return nil, err
	}
	return sensitive.Values(spec, paths)
}

// versionHider returns what logPrinter.hide needs for job ns/name: the
// texts of each version's sensitive values, read once per version.
func versionHider(st api.Backend, ns, name string) func(ctx context.Context, version int) ([]string, error) {
	cache := map[int][]string{}
	return func(ctx context.Context, version int) ([]string, error) {
		if v, ok := cache[version]; ok {
			return v, nil
		}
		versions, err := st.History(ctx, ns, name)
		if err != nil {
			return nil, err
		}
		for _, v := range versions {
			if v.Version == version {
				hide, err := specValues(ctx, st, v.Hash)
				if err != nil {
					return nil, err
				}
				cache[version] = hide
				return hide, nil
			}
		}
		return nil, nil
	}
}

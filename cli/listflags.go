package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/muster-dev/muster/api"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/selector"
	"github.com/muster-dev/muster/state"
)

// listFlags choose what a list command lists, as kubectl does:
// -n/--namespace keeps one namespace, -l/--selector keeps what the labels
// match. Commands that list jobs (status, executions) match the job's
// labels (of its current version's spec); nodes matches node labels and
// has no namespace. The zero value keeps everything.
type listFlags struct {
	namespace string
	selector  string
}

// register adds -n (when namespaced) and -l to c. A command that also
// takes a JOB refuses them with one: they choose what to list.
func (f *listFlags) register(c *cobra.Command, namespaced bool) {
	what := "jobs"
	if namespaced {
		c.Flags().StringVarP(&f.namespace, "namespace", "n", "", "list only the jobs of `namespace`")
	} else {
		what = "nodes"
	}
	c.Flags().StringVarP(&f.selector, "selector", "l", "", "list only the "+what+" whose labels match, as in Kubernetes: `key=value,key!=value,key in (a,b),key,!key`")
	args := c.Args
	c.Args = func(c *cobra.Command, list []string) error {
		if args != nil {
			if err := args(c, list); err != nil {
				return err
			}
		}
		if len(list) > 0 && (f.namespace != "" || f.selector != "") {
			return errors.New("-n and -l choose what to list: give them without JOB (name a job as NAMESPACE/NAME)")
		}
		return nil
	}
}

// requirements parses the -l selector: requirements separated by commas
// outside the parentheses of `in (...)` and `notin (...)`, all of which
// must hold.
func (f *listFlags) requirements() ([]selector.Requirement, error) {
	return parseSelector(f.selector)
}

// parseSelector parses a label selector of the Kubernetes syntax.
func parseSelector(s string) ([]selector.Requirement, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var reqs []selector.Requirement
	depth, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			switch s[i] {
			case '(':
				depth++
				continue
			case ')':
				depth--
				continue
			case ',':
				if depth > 0 {
					continue
				}
			default:
				continue
			}
		}
		part := strings.TrimSpace(s[start:i])
		start = i + 1
		r, err := selector.Parse(part)
		if err != nil {
			return nil, fmt.Errorf("-l: %w", err)
		}
		reqs = append(reqs, r)
	}
	return reqs, nil
}

// matchAll reports whether labels satisfy every requirement.
func matchAll(reqs []selector.Requirement, labels map[string]string) bool {
	for _, r := range reqs {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

// jobs lists the jobs of st that the flags keep, sorted as st lists them.
func (f *listFlags) jobs(ctx context.Context, st api.Backend) ([]state.JobStatus, error) {
	reqs, err := f.requirements()
	if err != nil {
		return nil, err
	}
	all, err := st.Jobs(ctx)
	if err != nil || f.namespace == "" && len(reqs) == 0 {
		return all, err
	}
	var kept []state.JobStatus
	for _, js := range all {
		if f.namespace != "" && js.Namespace != f.namespace {
			continue
		}
		if len(reqs) > 0 {
			labels, err := jobLabels(ctx, st, js)
			if err != nil {
				return nil, err
			}
			if !matchAll(reqs, labels) {
				continue
			}
		}
		kept = append(kept, js)
	}
	return kept, nil
}

// jobLabels reads the labels of a job's current version.
func jobLabels(ctx context.Context, st api.Backend, js state.JobStatus) (map[string]string, error) {
	b, err := st.Spec(ctx, js.Hash)
	if err != nil {
		return nil, fmt.Errorf("%s/%s version %d: %w", js.Namespace, js.Name, js.Version, err)
	}
	j, err := schema.FromCanonical(b)
	if err != nil {
		return nil, fmt.Errorf("%s/%s version %d: %w", js.Namespace, js.Name, js.Version, err)
	}
	return j.Labels, nil
}

// nodes keeps the nodes whose labels match -l.
func (f *listFlags) nodes(list []state.Node) ([]state.Node, error) {
	reqs, err := f.requirements()
	if err != nil || len(reqs) == 0 {
		return list, err
	}
	var kept []state.Node
	for _, n := range list {
		if matchAll(reqs, n.Labels) {
			kept = append(kept, n)
		}
	}
	return kept, nil
}

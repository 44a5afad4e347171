package runner

import (
	"context"
	"fmt"
	"os"

	"github.com/muster-dev/muster/schema"
)

// Secrets are the values of the secrets one execution refers to, by
// reference ("namespace/name", schema.SecretRef.String). The control plane
// resolves them when it starts the execution and hands them to the agent
// that runs it, never to the store: the agent puts them in the task's
// environment and input files, and hides them from every message it
// records.
type Secrets map[string][]byte

// secretsKey is the context key of an execution's Secrets.
type secretsKey struct{}

// WithSecrets returns ctx carrying s, the secrets of the execution that
// Agent.Run (or a remote runner) runs under it.
func WithSecrets(ctx context.Context, s Secrets) context.Context {
	if len(s) == 0 {
		return ctx
	}
	return context.WithValue(ctx, secretsKey{}, s)
}

// SecretsFrom returns the secrets ctx carries; nil when none.
func SecretsFrom(ctx context.Context) Secrets {
	s, _ := ctx.Value(secretsKey{}).(Secrets)
	return s
}

// value returns the value of the secret a reference names, or an error
// that names the reference (never a value).
func (s Secrets) value(j *schema.Job, text string) ([]byte, error) {
	ref, _, err := schema.ParseSecretRef(text)
	if err != nil {
		return nil, err
	}
	if ref.Namespace != j.Namespace {
		return nil, fmt.Errorf("secret %s is not of the job's namespace %s", ref, j.Namespace)
	}
	v, ok := s[ref.String()]
	if !ok {
		return nil, fmt.Errorf("secret %s was not handed to this agent", ref)
	}
	return v, nil
}

// texts returns the values of s as texts, for redaction.
func (s Secrets) texts() []string {
	out := make([]string, 0, len(s))
	for _, v := range s {
		if len(v) > 0 {
			out = append(out, string(v))
		}
	}
	return out
}

// secretEnv replaces the references to secrets in env by their values.
func secretEnv(ctx context.Context, j *schema.Job, env map[string]string) error {
	for k, v := range j.Task.Env {
		if _, ok, _ := schema.ParseSecretRef(v); !ok {
			continue
		}
		val, err := SecretsFrom(ctx).value(j, v)
		if err != nil {
			return fmt.Errorf("task.env.%s: %w", k, err)
		}
		env[k] = string(val)
	}
	return nil
}

// placeSecret writes the value of a secret input to rel inside r, readable
// by its owner only. It is not recorded among the documents the execution
// accessed: not even its hash leaves the node.
func placeSecret(ctx context.Context, r *os.Root, j *schema.Job, rel, source string) error {
	val, err := SecretsFrom(ctx).value(j, source)
	if err != nil {
		return err
	}
	f, err := CreateRegular(r, rel, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(val)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// removeSecretInputs removes the files of the task's secret inputs from
// root once it ran, before its outputs are collected: a value never
// becomes an output document, nor stays on the node's disk.
func removeSecretInputs(root string, j *schema.Job) {
	var r *os.Root
	for _, in := range j.Task.Inputs {
		if _, ok, _ := schema.ParseSecretRef(in.Source); !ok {
			continue
		}
		rel, err := RelPath(in.Target)
		if err != nil {
			continue
		}
		if r == nil {
			if r, err = OpenRoot(root); err != nil {
				return
			}
			defer r.Close()
		}
		r.Remove(rel)
	}
}

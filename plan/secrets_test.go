package plan

import (
	"context"
	"strings"
	"testing"
)

// secretState is a memState that stores the secrets of names.
type secretState struct {
	memState
	names map[string][]string
}

func (s secretState) SecretNames(_ context.Context, ns string) ([]string, error) {
	return s.names[ns], nil
}

func TestMissingSecretWarns(t *testing.T) {
	j := job(t, `
name: db
namespace: shop
task: {engine: exec, cmd: [x], env: {A: "secret:shop/a", B: "secret:shop/b"}, inputs: [{source: "secret:shop/c", target: /c}]}
`)
	for _, c := range []struct {
		name  string
		st    State
		wants []string
	}{
		{"all stored", secretState{memState{}, map[string][]string{"shop": {"a", "b", "c"}}}, nil},
		{"two missing", secretState{memState{}, map[string][]string{"shop": {"b"}}}, []string{"secret shop/a does not exist", "secret shop/c does not exist"}},
		{"a state that knows no secrets", memState{}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := MakeDesired(context.Background(), c.st, []Desired{{Job: j}}, nil, "test")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range p.Jobs[0].Warnings {
				if strings.Contains(w, "secret") {
					got = append(got, w)
				}
			}
			if len(got) != len(c.wants) {
				t.Fatalf("warnings %q, want %q", got, c.wants)
			}
			for i, w := range c.wants {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %q, want %q", got[i], w)
				}
			}
		})
	}
}

package state

import (
	"os"
	"strings"
	"testing"
)

// TestSpecDocStates holds docs/spec.md section 4 to the states the code
// knows: every job, compute and desired state, node status and rollout
// outcome is named there.
func TestSpecDocStates(t *testing.T) {
	b, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, "\n## 4. "), strings.Index(doc, "\n## 5. ")
	if i < 0 || j < i {
		t.Fatal("docs/spec.md has no section 4")
	}
	section := doc[i:j]
	for _, c := range []struct {
		what, from string // the paragraph that names them starts with from
		names      []string
	}{
		{"job state", "| state | when |", names(JobStates)},
		{"compute state", "Compute states: ", names(ComputeStates)},
		{"desired state", "Compute states: ", names(DesiredStates)},
		{"node status", "A node is ", []string{NodeReady, NodeDown}},
		{"rollout outcome", "Each version's rollout also has a record",
			[]string{OutcomeCompleted, OutcomeFailed, OutcomeRolledBack, OutcomeSuperseded, OutcomeStopped}},
	} {
		k := strings.Index(section, c.from)
		if k < 0 {
			t.Errorf("docs/spec.md section 4 has no paragraph starting %q", c.from)
			continue
		}
		paragraph, _, _ := strings.Cut(section[k:], "\n\n")
		for _, s := range c.names {
			if !strings.Contains(paragraph, "`"+s+"`") {
				t.Errorf("docs/spec.md section 4 does not name the %s %s where it lists them", c.what, s)
			}
		}
	}
}

// names is the text of each state.
func names[S ~string](states []S) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = string(s)
	}
	return out
}

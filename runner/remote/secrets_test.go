package remote_test

import (
	"context"
	"strings"
	"testing"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/state"
)

// TestSecretsTravelWithTheRun: the secrets on the context of Client.Run
// reach the remote agent with the run request, and the task gets them; the
// agent, whose store has no secret key, never reads them itself.
func TestSecretsTravelWithTheRun(t *testing.T) {
	c := newCluster(t, "n1")
	c.serve()
	for _, tc := range []struct {
		name    string
		secrets runner.Secrets
		state   state.ComputeState
		stdout  string
		message string
	}{
		{"handed", runner.Secrets{"default/db": []byte("remote-value-42")}, state.ComputeComplete, "len=15 ok\n", ""},
		{"not handed", nil, state.ComputeFailed, "", "secret default/db was not handed to this agent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, j := c.job(`printf "len=%s " "${#DB}"; test "$DB" = "$(printf 'remote-%s-42' value)" && echo ok`)
			j.Task.Env = map[string]string{"DB": "secret:default/db"}
			if _, err := c.st.PutSpec(context.Background(), j.Canonical()); err != nil {
				t.Fatal(err)
			}
			x, _, err := c.client.Run(runner.WithSecrets(context.Background(), tc.secrets), e, j)
			if err != nil {
				t.Fatal(err)
			}
			if x.Status.ComputeState != tc.state || !strings.Contains(x.Status.Message, tc.message) {
				t.Fatalf("ended %s (%s), want %s saying %q", x.Status.ComputeState, x.Status.Message, tc.state, tc.message)
			}
			if got := readAll(t, c.client, e.ID, "stdout"); got != tc.stdout {
				t.Errorf("stdout %q, want %q", got, tc.stdout)
			}
			if strings.Contains(c.stored(e).Status.Message, "remote-value-42") {
				t.Errorf("the stored execution shows the value: %s", c.stored(e).Status.Message)
			}
		})
	}
}

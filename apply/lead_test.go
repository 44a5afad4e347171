package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/muster-dev/muster/internal/wait"
	"github.com/muster-dev/muster/state"
)

// fakeLeadership hands out the terms a test gives it.
type fakeLeadership struct{ terms chan *fakeTerm }

func (f *fakeLeadership) Lead(ctx context.Context) (Term, error) {
	select {
	case t := <-f.terms:
		return t, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fakeTerm is lost when the test closes lost.
type fakeTerm struct {
	lost  chan struct{}
	ended chan struct{}
}

func newTerm() *fakeTerm { return &fakeTerm{lost: make(chan struct{}), ended: make(chan struct{})} }

func (t *fakeTerm) Lost() <-chan struct{} { return t.lost }
func (t *fakeTerm) Err() error {
	select {
	case <-t.lost:
		return errors.New("lost the lead: taken over")
	default:
		return nil
	}
}
func (t *fakeTerm) End(context.Context) { close(t.ended) }

// TestLostLeadStandsDown: a controller whose lead is lost stops driving
// and leaves every execution as it runs (nothing restarted, nothing
// written); leading again, it adopts the same executions.
func TestLostLeadStandsDown(t *testing.T) {
	cl := newCluster(t, "node-a", "node-b")
	cl.stop() // the cluster's own controller: this test runs its own
	lead := &fakeLeadership{terms: make(chan *fakeTerm, 1)}
	leading := make(chan bool, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &Controller{Store: cl.st, Runners: &Runners{}, Backoff: cl.c.Backoff, Leadership: lead,
		OnLead: func(l bool, _ error) { leading <- l },
		Connect: func(n state.Node) Runner {
			if l := cl.nodes[n.ID]; l != nil {
				return l
			}
			return nil
		}}
	cl.c = c
	cl.evs, _ = c.Events(ctx, "", "")
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	first := newTerm()
	lead.terms <- first
	if !<-leading {
		t.Fatal("not leading")
	}
	v1 := cl.apply(strings.Replace(canaryService, "count: 3", "count: 2", 1))
	if ev := cl.wait(Finished, v1); ev.State != string(state.StateRunning) {
		t.Fatalf("v1 finished %s: %s", ev.State, ev.Message)
	}
	before, n, js := cl.running(), cl.count(), cl.job()

	close(first.lost)
	if <-leading {
		t.Fatal("still leading after the lead was lost")
	}
	if got := cl.running(); strings.Join(got[v1], " ") != strings.Join(before[v1], " ") {
		t.Fatalf("after standing down running %v, want the same %v", got, before)
	}
	if got := cl.job(); got.Revision != js.Revision {
		t.Errorf("standing down wrote the job: %+v, was %+v", got, js)
	}
	if err := c.Rollout(context.Background(), "default", "web", v1, false); err == nil {
		t.Error("a controller standing by started a rollout")
	}

	lead.terms <- newTerm()
	if !<-leading {
		t.Fatal("not leading again")
	}
	wait.Until(t, wait.Default, "the job taken over", func() bool {
		evs, _ := cl.st.JobEvents(context.Background(), "default", "web", 0)
		for _, ev := range evs {
			if strings.Contains(ev.Message, "taken over") {
				return true
			}
		}
		return false
	})
	if got := cl.running(); strings.Join(got[v1], " ") != strings.Join(before[v1], " ") || cl.count() != n {
		t.Fatalf("after leading again running %v of %d, want the same %v of %d", got, cl.count(), before, n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	cl.stop = func() {}
}

// pausedLeader leads through a LeaseLeadership whose renewals wait on a
// fake clock: until the test advances it, the leader is as good as paused
// (SIGSTOP) and the NATS server expires its lease after the TTL.
func pausedLeader(t *testing.T, st *state.Store, holder string) (StoreTerm, *clockwork.FakeClock) {
	t.Helper()
	clk := clockwork.NewFakeClock()
	l := &LeaseLeadership{Store: st, Holder: holder, TTL: time.Second, Clock: clk}
	term, err := l.Lead(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { term.End(context.Background()) })
	stt, ok := term.(StoreTerm)
	if !ok || stt.Store() == nil {
		t.Fatalf("a lease term gives no store: %T", term)
	}
	return stt, clk
}

// TestLeaseTermLostWhenKeyGone: a leader whose lease the server expired
// (it did not renew in time) loses its term at its next renewal.
func TestLeaseTermLostWhenKeyGone(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	term, clk := pausedLeader(t, st, "a")
	watch, err := st.WatchLease(ctx, ControllerLease)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range watch {
		if ev.Holder == "" {
			break // the server removed the lease
		}
	}
	select {
	case <-term.Lost():
		t.Fatal("the term was lost before a renewal found out")
	default:
	}
	clk.Advance(time.Second / 3) // the next renewal
	select {
	case <-term.Lost():
	case <-time.After(wait.Default):
		t.Fatal("the term outlived a renewal that found its lease gone")
	}
	if err := term.Err(); !errors.Is(err, state.ErrLeaseLost) {
		t.Errorf("why the term ended: %v, want ErrLeaseLost", err)
	}
}

// TestPausedLeaderFenced: a standby takes the lead as soon as the server
// expired the paused leader's lease; from then on every write of the
// paused leader's term fails with state.ErrFenced and changes nothing,
// though it does not know yet that it lost, while the new leader's go
// through.
func TestPausedLeaderFenced(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	h, err := st.PutSpec(ctx, []byte(`{"api_version":"muster/v1","name":"web"}`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := pausedLeader(t, st, "a")
	if _, err := a.Store().CommitVersion(ctx, "default", "web", h, 0, state.StateDeploying); err != nil {
		t.Fatalf("a's commit while it leads: %v", err)
	}
	standby := make(chan string, 1)
	bl := &LeaseLeadership{Store: st, Holder: "b", TTL: time.Second, Standby: func(h string) { standby <- h }}
	took := time.Now()
	b, err := bl.Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer b.End(ctx)
	if d := time.Since(took); d > 3*time.Second {
		t.Errorf("b took %s to lead after a stopped renewing a lease of 1s", d)
	}
	if h := <-standby; h != "a" {
		t.Errorf("b stood by for %q, want a", h)
	}
	setState := func(s Store, st state.JobState) error {
		_, err := s.UpdateStatus(ctx, "default", "web", func(js *state.JobStatus) error {
			js.State = st
			return nil
		})
		return err
	}
	if err := setState(b.(StoreTerm).Store(), state.StateRunning); err != nil {
		t.Fatalf("the new leader's write: %v", err)
	}
	before, _ := st.Job(ctx, "default", "web")
	if err := setState(a.Store(), state.StateFailed); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("the paused leader's write: %v, want ErrFenced", err)
	}
	if err := a.Store().AppendEvent(ctx, state.Event{Job: "default/web", Kind: state.EventRolloutFailed}); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("the paused leader's event: %v, want ErrFenced", err)
	}
	if a.Err() != nil {
		t.Fatalf("a knew it lost before renewing: %v", a.Err())
	}
	after, _ := st.Job(ctx, "default", "web")
	evs, _ := st.JobEvents(ctx, "default", "web", 0)
	if after.Revision != before.Revision || after.State != state.StateRunning || len(evs) != 0 {
		t.Errorf("after the paused leader's writes: %+v and events %v, want %+v and none", after, evs, before)
	}
}

func openStore(t *testing.T) *state.Store {
	t.Helper()
	st, err := state.Open(context.Background(), t.TempDir(), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestStandbyLeadsOnRelease: a standby watches the lease and leads as
// soon as the leader gives it up, well before its TTL-long retry.
func TestStandbyLeadsOnRelease(t *testing.T) {
	st := openStore(t)
	ctx := context.Background()
	a, err := (&LeaseLeadership{Store: st, Holder: "a", TTL: 10 * time.Second}).Lead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	standby := make(chan string, 1)
	led := make(chan Term, 1)
	go func() {
		b, err := (&LeaseLeadership{Store: st, Holder: "b", TTL: 10 * time.Second, Standby: func(h string) { standby <- h }}).Lead(ctx)
		if err != nil {
			t.Error(err)
		}
		led <- b
	}()
	if h := <-standby; h != "a" {
		t.Fatalf("b stood by for %q, want a", h)
	}
	released := time.Now()
	a.End(ctx)
	select {
	case b := <-led:
		defer b.End(ctx)
		if d := time.Since(released); d > 5*time.Second {
			t.Errorf("b led %s after a released the lease", d)
		}
	case <-time.After(wait.Default):
		t.Fatal("b never led after a released the lease")
	}
}

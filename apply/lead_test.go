package apply

import (
	"context"
	"errors"
	"strings"
	"testing"

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

package api

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// next receives an event or fails after a while.
func next(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	ev, _ := wait.For(t, 10*time.Second, "an event", func() (Event, bool) {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("event stream closed early")
			}
			return ev, true
		default:
			return Event{}, false
		}
	})
	return ev
}

// closed waits for ch to be closed, draining it.
func closed(t *testing.T, ch <-chan Event) {
	t.Helper()
	wait.Until(t, 10*time.Second, "the event stream to close after its context ended", func() bool {
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return true
				}
			default:
				return false
			}
		}
	})
}

func TestEvents(t *testing.T) {
	h := newHarness(t, "", nil)
	c := h.client
	commit(t, c, "web", 1, 0)
	commit(t, c, "api", 1, 0)

	webCtx, cancelWeb := context.WithCancel(ctxT(t))
	defer cancelWeb()
	web, err := c.Events(webCtx, "", "web") // namespace defaults to default
	if err != nil {
		t.Fatal(err)
	}
	allCtx, cancelAll := context.WithCancel(ctxT(t))
	defer cancelAll()
	all, err := c.Events(allCtx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	// Events returned: the server has subscribed, with no waiting.
	if n := h.ctl.subscribers(); n != 2 {
		t.Fatalf("%d subscribers after Events returned, want 2", n)
	}

	ctx := ctxT(t)
	if err := c.Rollout(ctx, "default", "api", 1, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Rollout(ctx, "default", "web", 1, false); err != nil {
		t.Fatal(err)
	}
	kinds := []string{"rollout_started", "wave_started", "execution", "completed"}

	var got []string
	for range kinds {
		ev := next(t, web)
		if ev.Job != "default/web" || ev.Version != 1 || ev.Time.IsZero() {
			t.Errorf("web event = %+v", ev)
		}
		got = append(got, ev.Kind)
	}
	if !slices.Equal(got, kinds) {
		t.Errorf("web events = %v, want %v", got, kinds)
	}

	var all2 []string
	for range 2 * len(kinds) {
		ev := next(t, all)
		all2 = append(all2, ev.Job+" "+string(ev.Kind))
	}
	var want []string
	for _, job := range []string{"default/api", "default/web"} {
		for _, k := range kinds {
			want = append(want, job+" "+string(k))
		}
	}
	if !slices.Equal(all2, want) {
		t.Errorf("all events = %v, want %v", all2, want)
	}

	// The stream ends with its context, on both sides.
	cancelWeb()
	closed(t, web)
	wait.For(t, 10*time.Second, "1 subscriber after a client went away", func() (int, bool) {
		n := h.ctl.subscribers()
		return n, n == 1
	})
	cancelAll()
	closed(t, all)
}

// TestEventsServerGone checks that the channel closes when the stream ends
// from the server's side.
func TestEventsServerGone(t *testing.T) {
	h := newHarness(t, "", nil)
	ch, err := h.client.Events(ctxT(t), "", "")
	if err != nil {
		t.Fatal(err)
	}
	h.srv.CloseClientConnections()
	closed(t, ch)
}

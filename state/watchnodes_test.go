package state

import (
	"context"
	"testing"
	"time"
)

// TestWatchNodes: the nodes as they are, the sync marker, then each
// registration and heartbeat, until the context ends.
func TestWatchNodes(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx, cancel := context.WithCancel(ctxT(t))
	if _, err := s.PutNode(ctx, Node{ID: "a", LastSeen: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	ch, err := s.WatchNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.Node.ID != "a" {
		t.Fatalf("first event %+v, want node a as it is", ev)
	}
	if ev := <-ch; !ev.Synced {
		t.Fatalf("second event %+v, want the sync marker", ev)
	}
	if _, err := s.PutNode(ctx, Node{ID: "b", Labels: map[string]string{"zone": "x"}, LastSeen: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; ev.Node.ID != "b" || ev.Node.Labels["zone"] != "x" {
		t.Fatalf("registration event %+v", ev)
	}
	if err := s.DeleteNode(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ev := <-ch; !ev.Deleted || ev.Node.ID != "a" {
		t.Fatalf("deletion event %+v", ev)
	}
	cancel()
	for range ch {
	}
}

package state

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/internal/wait"
)

func newExecution(id string) Execution {
	return Execution{ID: id, JobID: "default/web", JobVersion: 1, NodeID: "node-a", EvalID: "ev1", DeploymentID: "d1"}
}

func testExecutions(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	if xs, err := s.Executions(ctx, "default", "web"); err != nil || len(xs) != 0 {
		t.Fatalf("Executions on an empty store = %v, %v", xs, err)
	}
	e1, err := s.CreateExecution(ctx, newExecution("e1"))
	if err != nil {
		t.Fatal(err)
	}
	if e1.Revision != 1 || e1.Namespace != "default" || e1.Status.ComputeState != ComputePending ||
		e1.Status.DesiredState != DesiredRunning || e1.CreatedAt.IsZero() || e1.UpdatedAt.IsZero() {
		t.Fatalf("CreateExecution = %+v", e1)
	}
	// Same id again: conflict.
	var ce *ConflictError
	if _, err := s.CreateExecution(ctx, newExecution("e1")); !errors.As(err, &ce) || ce.Current != 1 {
		t.Fatalf("second CreateExecution: %v", err)
	}
	e2 := newExecution("e2")
	e2.PreviousExecutionID = "e1"
	e2.CreatedAt = e1.CreatedAt.Add(time.Second)
	if _, err := s.CreateExecution(ctx, e2); err != nil {
		t.Fatal(err)
	}
	// Another job's execution is not listed.
	other := newExecution("e0")
	other.JobID = "default/db"
	if _, err := s.CreateExecution(ctx, other); err != nil {
		t.Fatal(err)
	}

	up := e1
	up.Status = ExecutionStatus{ComputeState: ComputeFailed, DesiredState: DesiredStopped, Message: "exit 1"}
	up.NextExecutionID = "e2"
	up.Outputs = []Document{{Path: "/out/a.txt", Hash: "sha256:" + strings.Repeat("a", 64), Size: 3}}
	up.Accessed = []Document{{Path: "/in/b", Hash: "sha256:" + strings.Repeat("b", 64), Size: 4}}
	up.CreatedAt = time.Time{} // ignored: the stored one stays
	got, err := s.UpdateExecution(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != 2 || !got.CreatedAt.Equal(e1.CreatedAt) || got.Status.ComputeState != ComputeFailed {
		t.Fatalf("UpdateExecution = %+v", got)
	}
	read, err := s.Execution(ctx, "default", "web", "e1")
	if err != nil || read.Revision != 2 || read.NextExecutionID != "e2" || len(read.Outputs) != 1 ||
		read.Outputs[0] != up.Outputs[0] || read.Accessed[0] != up.Accessed[0] || read.Status != up.Status {
		t.Fatalf("Execution(e1) = %+v, %v", read, err)
	}
	// A stale revision conflicts.
	if _, err := s.UpdateExecution(ctx, up); !errors.As(err, &ce) || ce.Base != 1 || ce.Current != 2 {
		t.Fatalf("stale UpdateExecution: %v", err)
	}
	// Updating what does not exist.
	if _, err := s.UpdateExecution(ctx, newExecution("nope")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("UpdateExecution(nope): %v", err)
	}
	if _, err := s.Execution(ctx, "default", "web", "nope"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "execution default/web/nope not found") {
		t.Fatalf("Execution(nope): %v", err)
	}

	xs, err := s.Executions(ctx, "default", "web")
	if err != nil || len(xs) != 2 || xs[0].ID != "e1" || xs[1].ID != "e2" {
		t.Fatalf("Executions = %+v, %v", xs, err)
	}

	bad := []struct {
		name string
		edit func(*Execution)
		part string
	}{
		{"bad id", func(e *Execution) { e.ID = "a.b" }, "invalid execution id"},
		{"empty id", func(e *Execution) { e.ID = "" }, "invalid execution id"},
		{"bad job id", func(e *Execution) { e.JobID = "web" }, "want <namespace>/<name>"},
		{"bad job name", func(e *Execution) { e.JobID = "default/Web" }, "invalid job name"},
		{"namespace mismatch", func(e *Execution) { e.Namespace = "prod" }, "differs"},
		{"compute state", func(e *Execution) { e.Status.ComputeState = "dancing" }, "invalid compute state"},
		{"desired state", func(e *Execution) { e.Status.DesiredState = "complete" }, "invalid desired state"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			e := newExecution("x1")
			c.edit(&e)
			if _, err := s.CreateExecution(ctx, e); err == nil || !strings.Contains(err.Error(), c.part) {
				t.Errorf("CreateExecution = %v, want an error containing %q", err, c.part)
			}
		})
	}

	if err := s.DeleteExecution(ctx, "default", "web", "e2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteExecution(ctx, "default", "web", "e2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteExecution: %v", err)
	}
	if xs, _ := s.Executions(ctx, "default", "web"); len(xs) != 1 {
		t.Fatalf("Executions after delete = %+v", xs)
	}
}

func testWatchExecutions(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	e1, err := s.CreateExecution(ctx, newExecution("e1"))
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	ch, err := s.WatchExecutions(wctx, "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	next := func() ExecutionEvent {
		t.Helper()
		ev, _ := wait.For(t, 10*time.Second, "a watch event", func() (ExecutionEvent, bool) {
			select {
			case ev, ok := <-ch:
				if !ok {
					t.Fatal("watch closed early")
				}
				return ev, true
			default:
				return ExecutionEvent{}, false
			}
		})
		if ev.Err != nil {
			t.Fatal(ev.Err)
		}
		return ev
	}
	if ev := next(); ev.Execution.ID != "e1" || ev.Execution.Revision != 1 || ev.Synced || ev.Deleted {
		t.Fatalf("first event %+v, want e1 as it is", ev)
	}
	if ev := next(); !ev.Synced {
		t.Fatalf("second event %+v, want the sync marker", ev)
	}
	// Changes: of this job only.
	other := newExecution("x")
	other.JobID = "default/web2"
	if _, err := s.CreateExecution(ctx, other); err != nil {
		t.Fatal(err)
	}
	e1.Status.ComputeState = ComputeStarting
	if _, err := s.UpdateExecution(ctx, e1); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Execution.ID != "e1" || ev.Execution.Revision != 2 || ev.Execution.Status.ComputeState != ComputeStarting {
		t.Fatalf("update event %+v", ev)
	}
	if _, err := s.CreateExecution(ctx, newExecution("e2")); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Execution.ID != "e2" || ev.Deleted {
		t.Fatalf("create event %+v", ev)
	}
	if err := s.DeleteExecution(ctx, "default", "web", "e1"); err != nil {
		t.Fatal(err)
	}
	if ev := next(); !ev.Deleted || ev.Execution.ID != "e1" || ev.Execution.JobID != "default/web" {
		t.Fatalf("delete event %+v", ev)
	}
	cancel()
	wait.Until(t, 10*time.Second, "the watch channel to close after cancel", func() bool {
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

// TestLanded: a write whose answer was lost is found stored when the key
// holds exactly its bytes; not when it holds others, and a lost
// compare-and-set is never taken for stored.
func TestLanded(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := kv.Put(ctx, "default.web.e1", []byte(`{"id":"e1","updated_at":"2026-12-04T09:00:00.000000001Z"}`))
	if err != nil {
		t.Fatal(err)
	}
	lost := context.DeadlineExceeded
	if got, ok := landed(ctx, kv, "default.web.e1", []byte(`{"id":"e1","updated_at":"2026-12-04T09:00:00.000000001Z"}`), lost); !ok || got != rev {
		t.Errorf("the stored bytes: %d, %v; want %d, true", got, ok, rev)
	}
	if _, ok := landed(ctx, kv, "default.web.e1", []byte(`{"id":"e1","updated_at":"2026-12-04T09:00:00.000000002Z"}`), lost); ok {
		t.Error("other bytes taken for this write")
	}
	if _, ok := landed(ctx, kv, "default.web.e1", []byte(`{"id":"e1","updated_at":"2026-12-04T09:00:00.000000001Z"}`), jetstream.ErrKeyExists); ok {
		t.Error("a lost compare-and-set taken for a stored write")
	}
	if _, ok := landed(ctx, kv, "default.web.e2", []byte(`{}`), lost); ok {
		t.Error("a missing key taken for a stored write")
	}
}

// TestCreateOwnTakesItsEarlierTry: a create sent again after a try that
// got no answer finds its own bytes stored and takes them; a key that
// held other bytes, or was there before the first try, stays a conflict.
func TestCreateOwnTakesItsEarlierTry(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	ctx := ctxT(t)
	kv, err := s.kv(ctx, bucketExecutions)
	if err != nil {
		t.Fatal(err)
	}
	val := []byte(`{"id":"e1","updated_at":"2026-12-04T09:00:00.000000001Z"}`)
	rev, err := s.createOwn(ctx, kv, "default.web.e1", val)
	if err != nil {
		t.Fatal(err)
	}
	// The key is there before the first try: a conflict, even with the
	// same bytes.
	if _, err := s.createOwn(ctx, kv, "default.web.e1", val); !isCASFailure(err) {
		t.Errorf("a create over an existing key: %v, want a conflict", err)
	}
	// A first try that stored the key but got no answer: the second
	// finds its own bytes and takes them.
	lostAnswer := func(key string, val []byte) func(context.Context) (uint64, error) {
		tries := 0
		return func(ctx context.Context) (uint64, error) {
			rev, err := kv.Create(ctx, key, val)
			if tries++; tries == 1 && err == nil {
				return 0, fmt.Errorf("write to KV_executions: %w", context.DeadlineExceeded)
			}
			return rev, err
		}
	}
	val2 := []byte(`{"id":"e2","updated_at":"2026-12-04T09:00:00.000000002Z"}`)
	rev2, err := createOwnWith(ctx, kv, "default.web.e2", val2, lostAnswer("default.web.e2", val2))
	if err != nil {
		t.Fatalf("a create whose first answer was lost: %v", err)
	}
	if got, err := kv.Get(ctx, "default.web.e2"); err != nil || got.Revision() != rev2 {
		t.Errorf("stored at %v (%v), createOwn said %d", got, err, rev2)
	}
	// Another's bytes under the key stay a conflict.
	if _, err := kv.Put(ctx, "default.web.e3", []byte(`{"id":"e3","by":"another"}`)); err != nil {
		t.Fatal(err)
	}
	tries := 0
	_, err = createOwnWith(ctx, kv, "default.web.e3", val, func(ctx context.Context) (uint64, error) {
		if tries++; tries == 1 {
			return 0, context.DeadlineExceeded
		}
		return kv.Create(ctx, "default.web.e3", val)
	})
	if !isCASFailure(err) {
		t.Errorf("a key holding another's bytes: %v, want a conflict", err)
	}
	_ = rev
}

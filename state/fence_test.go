package state

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// fencedPair is a store, the fenced view of a first holder (a) of the
// controller lease, and the fenced view of the holder (b) that took the
// lease over once a's expired on the server.
type fencedPair struct {
	st, a, b *Store
}

// takeOver lets a's lease expire (a never renews it: a paused leader) and
// b take it and fence the store.
func takeOver(t *testing.T, ctx context.Context, st *Store, a *Store) *Store {
	t.Helper()
	b, _ := wait.For(t, 10*time.Second, "b to take the lease a stopped renewing", func() (*Lease, bool) {
		l, err := st.AcquireLease(ctx, "controller", "b", time.Second)
		return l, err == nil
	})
	fb, err := b.Fenced(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

func fencedA(t *testing.T, ctx context.Context, st *Store) *Store {
	t.Helper()
	a, err := st.AcquireLease(ctx, "controller", "a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fa, err := a.Fenced(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fa
}

// snapshot is what the store shows of job default/web and node n1.
type snapshot struct {
	Job        JobStatus
	Executions []Execution
	Rollouts   []Rollout
	Events     []Event
	Nodes      []Node
}

func snap(t *testing.T, ctx context.Context, s *Store) snapshot {
	t.Helper()
	var sn snapshot
	var err error
	if sn.Job, err = s.Job(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if sn.Executions, err = s.Executions(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if sn.Rollouts, err = s.Rollouts(ctx, "default", "web"); err != nil {
		t.Fatal(err)
	}
	if sn.Events, err = s.JobEvents(ctx, "default", "web", 0); err != nil {
		t.Fatal(err)
	}
	if sn.Nodes, err = s.Nodes(ctx); err != nil {
		t.Fatal(err)
	}
	return sn
}

// leaderWrites are the writes a leading control plane makes, each through
// the store given.
func leaderWrites(hashes []string, jobRev func() uint64) map[string]func(context.Context, *Store) error {
	return map[string]func(context.Context, *Store) error{
		"CommitVersion": func(ctx context.Context, s *Store) error {
			_, err := s.CommitVersion(ctx, "default", "web", hashes[1], jobRev(), StateDeploying)
			return err
		},
		"UpdateStatus": func(ctx context.Context, s *Store) error {
			_, err := s.UpdateStatus(ctx, "default", "web", func(js *JobStatus) error {
				js.Message = "written at " + time.Now().String()
				return nil
			})
			return err
		},
		"CreateExecution": func(ctx context.Context, s *Store) error {
			_, err := s.CreateExecution(ctx, Execution{ID: "x" + time.Now().Format("150405.000000000")[7:], JobID: "default/web", JobVersion: 1, NodeID: "n1"})
			return err
		},
		"UpdateExecution": func(ctx context.Context, s *Store) error {
			x, err := s.Execution(ctx, "default", "web", "e1")
			if err != nil {
				return err
			}
			x.Status.Message = "written at " + time.Now().String()
			_, err = s.UpdateExecution(ctx, x)
			return err
		},
		"PutRollout": func(ctx context.Context, s *Store) error {
			return s.PutRollout(ctx, Rollout{Namespace: "default", Name: "web", Version: 1, Strategy: "rolling", Message: time.Now().String()})
		},
		"AppendEvent": func(ctx context.Context, s *Store) error {
			return s.AppendEvent(ctx, Event{Time: time.Now().UTC(), Job: "default/web", Version: 1, Kind: EventHealth})
		},
		"CreateLaunch": func(ctx context.Context, s *Store) error {
			_, err := s.CreateLaunch(ctx, Launch{Namespace: "default", Name: "web", ID: LaunchID(time.Now()) + time.Now().Format("000000000"), Version: 1, Reason: LaunchSchedule, State: LaunchRunning})
			return err
		},
		"UpdateLaunch": func(ctx context.Context, s *Store) error {
			ls, err := s.Launches(ctx, "default", "web")
			if err != nil {
				return fmt.Errorf("no launch to update: %w", err)
			}
			if len(ls) == 0 {
				l, err := s.CreateLaunch(ctx, Launch{Namespace: "default", Name: "web", ID: "u1", Version: 1, Reason: LaunchManual, State: LaunchRunning})
				if err != nil {
					return err
				}
				ls = append(ls, l)
			}
			l := ls[len(ls)-1]
			l.Message = "written at " + time.Now().String()
			_, err = s.UpdateLaunch(ctx, l)
			return err
		},
		"Arm": func(ctx context.Context, s *Store) error {
			return s.Arm(ctx, "default", "web", Armed{Version: 1, Since: time.Now().UTC()})
		},
		"PutNode": func(ctx context.Context, s *Store) error {
			_, err := s.PutNode(ctx, Node{ID: "n1", LastSeen: time.Now().UTC(), Status: NodeDown})
			return err
		},
	}
}

// TestFencedLeaderIsRefused: a's fenced writes go through while it leads;
// once b took the lease over (a never noticed: it was paused), each of a's
// writes fails with ErrFenced and changes nothing, while b's go through,
// and so do the unfenced writes of clients and agents.
func TestFencedLeaderIsRefused(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	hashes := putSpecs(t, st, "web", 3)
	fa := fencedA(t, ctx, st)
	if _, err := fa.CommitVersion(ctx, "default", "web", hashes[0], 0, StateDeploying); err != nil {
		t.Fatalf("a's first commit: %v", err)
	}
	if _, err := fa.CreateExecution(ctx, Execution{ID: "e1", JobID: "default/web", JobVersion: 1, NodeID: "n1"}); err != nil {
		t.Fatal(err)
	}
	jobRev := func() uint64 {
		js, err := st.Job(ctx, "default", "web")
		if err != nil {
			t.Fatal(err)
		}
		return js.Revision
	}
	writes := leaderWrites(hashes, jobRev)
	for name, w := range writes {
		if err := w(ctx, fa); err != nil {
			t.Fatalf("%s while a leads: %v", name, err)
		}
	}

	fb := takeOver(t, ctx, st, fa)
	before := snap(t, ctx, st)
	for name, w := range writes {
		if err := w(ctx, fa); !errors.Is(err, ErrFenced) {
			t.Errorf("%s of the deposed a: %v, want ErrFenced", name, err)
		}
	}
	if after := snap(t, ctx, st); !reflect.DeepEqual(before, after) {
		t.Errorf("the deposed a's refused writes changed the store:\nbefore %+v\nafter  %+v", before, after)
	}
	for name, w := range writes {
		if err := w(ctx, fb); err != nil {
			t.Errorf("%s of the new leader b: %v", name, err)
		}
	}
	// Clients and agents do not lead: their writes are not fenced.
	if _, err := st.CommitVersion(ctx, "default", "web", hashes[2], jobRev(), StateDeploying); err != nil {
		t.Errorf("a client's commit: %v", err)
	}
	if _, err := st.PutNode(ctx, Node{ID: "n1", LastSeen: time.Now().UTC(), Status: NodeReady}); err != nil {
		t.Errorf("an agent's heartbeat: %v", err)
	}
	// A deposed holder cannot fence again over the newer fence.
	if _, err := (&Lease{s: st, name: "controller", holder: "a", term: 1}).Fenced(ctx); !errors.Is(err, ErrFenced) {
		t.Errorf("fencing again with a's old term: %v, want ErrFenced", err)
	}
}

// TestFencedConflictIsNotFenced: a lost compare-and-set of the leader
// itself stays an ordinary conflict, and KV's Create over a deleted key
// still works through the fence.
func TestFencedConflictIsNotFenced(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	fa := fencedA(t, ctx, st)
	e1 := Execution{ID: "e1", JobID: "default/web", JobVersion: 1, NodeID: "n1"}
	x, err := fa.CreateExecution(ctx, e1)
	if err != nil {
		t.Fatal(err)
	}
	var ce *ConflictError
	if _, err := fa.CreateExecution(ctx, e1); !errors.As(err, &ce) || errors.Is(err, ErrFenced) {
		t.Fatalf("creating e1 twice: %v, want a conflict", err)
	}
	kv, err := st.kv(ctx, bucketExecutions)
	if err != nil {
		t.Fatal(err)
	}
	key := executionKey("default", "web", "e1")
	stale := x.kvRevision
	if _, err := fa.kvUpdate(ctx, kv, key, []byte(`{}`), stale); err != nil {
		t.Fatal(err)
	}
	for name, write := range map[string]func() error{
		"update on a stale revision": func() error { _, err := fa.kvUpdate(ctx, kv, key, []byte(`{}`), stale); return err },
		"create of an existing key":  func() error { _, err := fa.kvCreate(ctx, kv, key, []byte(`{}`)); return err },
		"delete on a stale revision": func() error { return fa.kvDelete(ctx, kv, key, stale, false) },
	} {
		if err := write(); !isCASFailure(err) || errors.Is(err, ErrFenced) {
			t.Errorf("%s: %v, want a lost compare-and-set, not fenced", name, err)
		}
	}
	if err := fa.DeleteExecution(ctx, "default", "web", "e1"); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.CreateExecution(ctx, e1); err != nil {
		t.Fatalf("creating e1 again after it was deleted: %v", err)
	}
}

// TestFenceKeysInvisible: the fences and checks written into the buckets
// and the events stream show in no listing, watch, count or check.
func TestFenceKeysInvisible(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	hashes := putSpecs(t, st, "web", 1)
	fa := fencedA(t, ctx, st)
	if _, err := fa.CommitVersion(ctx, "default", "web", hashes[0], 0, StateDeploying); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.CreateExecution(ctx, Execution{ID: "e1", JobID: "default/web", JobVersion: 1, NodeID: "n1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := fa.PutNode(ctx, Node{ID: "n1", LastSeen: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if err := fa.AppendEvent(ctx, Event{Time: time.Now().UTC(), Job: "default/web", Version: 1, Kind: EventQueued}); err != nil {
		t.Fatal(err)
	}
	if jobs, err := st.Jobs(ctx); err != nil || len(jobs) != 1 {
		t.Errorf("Jobs = %+v, %v; want default/web alone", jobs, err)
	}
	if nodes, err := st.Nodes(ctx); err != nil || len(nodes) != 1 || nodes[0].ID != "n1" {
		t.Errorf("Nodes = %+v, %v; want n1 alone", nodes, err)
	}
	if xs, err := st.Executions(ctx, "default", "web"); err != nil || len(xs) != 1 {
		t.Errorf("Executions = %+v, %v; want e1 alone", xs, err)
	}
	if evs, err := st.JobEvents(ctx, "default", "web", 0); err != nil || len(evs) != 1 {
		t.Errorf("JobEvents = %+v, %v; want the one event", evs, err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := st.WatchNodes(wctx)
	if err != nil {
		t.Fatal(err)
	}
	var seen []NodeEvent
	for ev := range ch {
		seen = append(seen, ev)
		if ev.Synced {
			break
		}
	}
	if len(seen) != 2 || seen[0].Node.ID != "n1" || seen[0].Err != nil {
		t.Errorf("WatchNodes replay = %+v; want n1, then the sync marker", seen)
	}
	r, err := st.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"jobs": 1, "executions": 1, "nodes": 1}
	for k, n := range want {
		if r.Counts[k] != n {
			t.Errorf("Check counted %d %s, want %d (counts %v)", r.Counts[k], k, n, r.Counts)
		}
	}
	if r.Damaged() {
		t.Errorf("Check found damage: %+v", r.Findings)
	}
}

// TestFencedWritesConcurrent: fenced writes from many goroutines of one
// process are serialized per stream, never refused among themselves.
func TestFencedWritesConcurrent(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	fa := fencedA(t, ctx, st)
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			_, err := fa.CreateExecution(ctx, Execution{ID: "e" + string(rune('a'+i)), JobID: "default/web", JobVersion: 1, NodeID: "n1"})
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BenchmarkFencedWrite compares one write through a fenced view (an
// atomic batch of the write and the check of the fence) with the same
// write unfenced, on an embedded store with file storage: an execution
// update (a compare-and-set) and an event (a plain publish).
func BenchmarkFencedWrite(b *testing.B) {
	for _, fenced := range []bool{false, true} {
		name := "unfenced"
		if fenced {
			name = "fenced"
		}
		b.Run("UpdateExecution/"+name, func(b *testing.B) {
			s := benchStore(b, fenced)
			ctx := context.Background()
			x, err := s.CreateExecution(ctx, Execution{ID: "e1", JobID: "default/web", JobVersion: 1, NodeID: "n1"})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if x, err = s.UpdateExecution(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("AppendEvent/"+name, func(b *testing.B) {
			s := benchStore(b, fenced)
			ctx := context.Background()
			ev := Event{Time: time.Now().UTC(), Job: "default/web", Version: 1, Kind: EventHealth}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.AppendEvent(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchStore(b *testing.B, fenced bool) *Store {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if !fenced {
		return s
	}
	l, err := s.AcquireLease(ctx, "controller", "bench", 10*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	f, err := l.Fenced(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// TestFencedWriteReenablesAtomic: a process that updates a fenced stream's
// configuration without atomic batches (an older muster) does not break
// the leader's writes: they turn atomic batches on again.
func TestFencedWriteReenablesAtomic(t *testing.T) {
	ctx := ctxT(t)
	st := openT(t, t.TempDir(), Options{})
	fa := fencedA(t, ctx, st)
	es, err := st.events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info, err := es.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := info.Config
	cfg.AllowAtomicPublish = false
	if _, err := st.js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if err := fa.AppendEvent(ctx, Event{Time: time.Now().UTC(), Job: "default/web", Kind: EventQueued}); err != nil {
		t.Fatalf("a fenced event after atomic batches were turned off: %v", err)
	}
}

package state

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/muster-dev/muster/schema"
)

// TestSpecBytesRewritten: bytes rewritten under a spec's hash are refused
// on every read, and Check names the spec.
func TestSpecBytesRewritten(t *testing.T) {
	ctx := ctxT(t)
	s := openT(t, t.TempDir(), Options{})
	h := putSpecs(t, s, "good", 1)[0]
	kv, _ := s.kv(ctx, bucketSpecs)
	if _, err := kv.Put(ctx, strings.TrimPrefix(h, schema.HashPrefix), []byte(`{"evil":true}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Spec(ctx, h); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Spec of rewritten bytes = %v, want ErrDamaged", err)
	}
	if _, err := s.CommitVersion(ctx, "default", "web", h, 0, StateRunning); !errors.Is(err, ErrDamaged) {
		t.Fatalf("CommitVersion of a rewritten spec = %v, want ErrDamaged", err)
	}
	rep, err := s.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(rep, "spec "+h, "do not hash") {
		t.Fatalf("Check = %+v, want the rewritten spec", rep.Findings)
	}
}

// commitVersions commits n versions of default/web with an execution of
// each, and returns the hashes.
func commitVersions(t *testing.T, s *Store, n int) []string {
	t.Helper()
	ctx := ctxT(t)
	hashes := putSpecs(t, s, "v", n)
	var rev uint64
	for i, h := range hashes {
		st, err := s.CommitVersion(ctx, "default", "web", h, rev, StateCompleted)
		if err != nil {
			t.Fatal(err)
		}
		rev = st.Revision
		x := Execution{ID: "x" + string(rune('a'+i)), JobID: "default/web", JobVersion: st.Version, NodeID: "n1",
			Status: ExecutionStatus{ComputeState: ComputeComplete, DesiredState: DesiredRunning}}
		if _, err := s.CreateExecution(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	return hashes
}

// corruptTail overwrites the last bytes of a stream's newest message block
// with random bytes, as a failing disk or a careless editor would.
func corruptTail(t *testing.T, dir, stream string, n int) {
	t.Helper()
	blocks, _ := filepath.Glob(filepath.Join(dir, "jetstream", "*", "streams", stream, "msgs", "*.blk"))
	if len(blocks) == 0 {
		t.Fatalf("no message blocks of %s under %s", stream, dir)
	}
	p := blocks[len(blocks)-1]
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := max(0, len(b)-n-100); i < len(b)-100; i++ {
		b[i] = byte(r.IntN(256))
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestLostWritesRefused: writes lost from a damaged stream make every
// later Open refuse the directory, not only the first, until the loss is
// accepted; an old version is never committed under a used number.
func TestLostWritesRefused(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	hashes := commitVersions(t, s, 3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	corruptTail(t, dir, "KV_jobs", 1500)

	for i := range 2 {
		_, err := Open(ctx, dir, Options{})
		var de *DamagedError
		if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "KV_jobs") {
			t.Fatalf("open %d of a damaged directory = %v, want a *DamagedError naming KV_jobs", i+1, err)
		}
	}

	s = openT(t, dir, Options{AllowDamaged: true})
	rep, err := s.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(rep, "streams", "KV_jobs") {
		t.Fatalf("Check = %+v, want the lost writes of KV_jobs", rep.Findings)
	}
	st, err := s.Job(ctx, "default", "web")
	switch {
	case errors.Is(err, ErrNotFound):
		// The damage took every status write.
		if !hasFinding(rep, "execution default/web/", "has no status") {
			t.Fatalf("Check = %+v, want executions of a job without status", rep.Findings)
		}
	case err != nil:
		t.Fatal(err)
	case st.Version < 3:
		// The status went back: version 3 must not be given again to
		// another spec while its execution is stored.
		if !hasFinding(rep, "execution default/web/xc", "ran version 3") {
			t.Fatalf("Check = %+v, want the execution of lost version 3", rep.Findings)
		}
		if _, err := s.CommitVersion(ctx, "default", "web", hashes[2], st.Revision, StateCompleted); !errors.Is(err, ErrDamaged) {
			t.Fatalf("CommitVersion over a lost version = %v, want ErrDamaged", err)
		}
	}
	removed, err := s.AcceptLoss(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("accepted the loss, removed %v", removed)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openT(t, dir, Options{})
	if rep, err := s.Check(ctx, nil); err != nil || rep.Damaged() {
		t.Fatalf("Check after AcceptLoss = %+v, %v; want sound", rep.Findings, err)
	}
}

// TestCheckBrokenChain: a version record gone from the middle of a job's
// history is damage, which History refuses and Check reports.
func TestCheckBrokenChain(t *testing.T) {
	ctx := ctxT(t)
	s := openT(t, t.TempDir(), Options{})
	hashes := commitVersions(t, s, 3)
	kv, _ := s.kv(ctx, bucketJobs)
	if err := kv.Purge(ctx, versionKey("default", "web", 2, hashes[1])); err != nil {
		t.Fatal(err)
	}
	if _, err := s.History(ctx, "default", "web"); !errors.Is(err, ErrDamaged) {
		t.Fatalf("History with a record missing = %v, want ErrDamaged", err)
	}
	rep, err := s.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(rep, "job default/web", "version 2") {
		t.Fatalf("Check = %+v, want the broken chain", rep.Findings)
	}
}

// TestCheckDocumentRewritten: an object stored under a hash its bytes do
// not have is reported.
func TestCheckDocumentRewritten(t *testing.T) {
	ctx := ctxT(t)
	s := openT(t, t.TempDir(), Options{})
	h, _, err := s.PutDocument(ctx, bytes.NewReader([]byte("good")))
	if err != nil {
		t.Fatal(err)
	}
	obs, _ := s.documents(ctx)
	name := strings.TrimPrefix(h, schema.HashPrefix)
	if _, err := obs.Put(ctx, jetstream.ObjectMeta{Name: name}, bytes.NewReader([]byte("evil"))); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !hasFinding(rep, "document "+h, "hash to") {
		t.Fatalf("Check = %+v, want the rewritten document", rep.Findings)
	}
}

// TestCheckSound: a store in use reports nothing.
func TestCheckSound(t *testing.T) {
	ctx := ctxT(t)
	s := openT(t, t.TempDir(), Options{})
	commitVersions(t, s, 2)
	if _, _, err := s.PutDocument(ctx, bytes.NewReader([]byte("doc"))); err != nil {
		t.Fatal(err)
	}
	rep, err := s.Check(ctx, nil)
	if err != nil || rep.Damaged() {
		t.Fatalf("Check = %+v, %v; want sound", rep.Findings, err)
	}
	if rep.Counts["executions"] != 2 || rep.Counts["specs"] != 2 || rep.Counts["documents"] != 1 {
		t.Fatalf("Counts = %v", rep.Counts)
	}
}

func hasFinding(rep CheckReport, record, problem string) bool {
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Record, record) && strings.Contains(f.Problem, problem) {
			return true
		}
	}
	return false
}

package state

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestLockSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Open(ctx, dir, Options{})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want *LockedError", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("second Open with no LockWait took %s, want at once", time.Since(start))
	}
	if le.PID != os.Getpid() || le.Dir != dir || le.Started.IsZero() {
		t.Errorf("LockedError = %+v, want pid %d", le, os.Getpid())
	}
	for _, part := range []string{dir, "process", "--state-dir"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("message %q does not mention %q", err, part)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s2 := openT(t, dir, Options{})
	_ = s2
}

func TestLockWait(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		// The holder keeps the lock 200ms: the time Open is measured
		// against below, so this sleep stays.
		time.Sleep(200 * time.Millisecond)
		s.Close()
	}()
	start := time.Now()
	s2 := openT(t, dir, Options{LockWait: 10 * time.Second})
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("Open did not wait for the holder: %s", d)
	}
	_ = s2
	// A wait that runs out.
	start = time.Now()
	_, err = Open(ctx, dir, Options{LockWait: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("Open with a short wait = %v after %s", err, time.Since(start))
	}
}

// TestLockTakenFromKilledProcess: a child opens the directory and is killed
// with SIGKILL; the lock goes with it, and the data it wrote stays.
func TestLockTakenFromKilledProcess(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	s := openT(t, dir, Options{})
	h := putSpecs(t, s, "web", 1)[0]
	if _, err := s.CommitVersion(ctx, "default", "web", h, 0, StateRunning); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	child := startChild(t, "hold", dir, "")
	_, err := Open(ctx, dir, Options{})
	var le *LockedError
	if !errors.As(err, &le) || le.PID != child.Process.Pid {
		t.Fatalf("Open while the child holds the lock = %v, want *LockedError naming pid %d", err, child.Process.Pid)
	}
	kill(t, child)

	s = openT(t, dir, Options{})
	st, err := s.Job(ctx, "default", "web")
	if err != nil || st.Version != 1 || st.Hash != h {
		t.Fatalf("Job after the holder was killed = %+v, %v", st, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	if _, err := Open(ctx, "", Options{}); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, file, Options{}); err == nil {
		t.Error("Open on a regular file succeeded")
	}
	if _, err := Open(ctx, t.TempDir(), Options{Listen: "nonsense"}); err == nil {
		t.Error("Open with a bad listen address succeeded")
	}
	if _, err := Open(ctx, t.TempDir(), Options{Listen: "127.0.0.1:99999"}); err == nil {
		t.Error("Open with port 99999 succeeded")
	}
	// A busy port fails at once, and the failed Open releases the lock.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	start := time.Now()
	if _, err := Open(ctx, dir, Options{Listen: l.Addr().String()}); err == nil || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Errorf("Open on a busy port = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Open on a busy port took %s", d)
	}
	openT(t, dir, Options{})
}

func TestOpenCreatesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", ".muster")
	s := openT(t, dir, Options{})
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("state directory mode %v, want 0700", perm)
	}
	if s.ClientURL() != "" {
		t.Errorf("in-process store has ClientURL %q", s.ClientURL())
	}
	if s.Conn() == nil || !s.Conn().IsConnected() {
		t.Error("Conn is not connected")
	}
}

// TestReopenKeepsEverything: all kinds of records survive Close and Open.
func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := ctxT(t)
	s := openT(t, dir, Options{Listen: "127.0.0.1:0"})
	if !strings.HasPrefix(s.ClientURL(), "nats://127.0.0.1:") {
		t.Errorf("ClientURL = %q", s.ClientURL())
	}
	h := putSpecs(t, s, "web", 2)
	if _, err := s.CommitVersion(ctx, "default", "web", h[0], 0, StateRunning); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CommitVersion(ctx, "default", "web", h[1], 1, StateRunning); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutNode(ctx, Node{ID: "n1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateExecution(ctx, newExecution("e1")); err != nil {
		t.Fatal(err)
	}
	doc, _, err := s.PutDocument(ctx, strings.NewReader("doc"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openT(t, dir, Options{})
	if hist, err := s.History(ctx, "default", "web"); err != nil || len(hist) != 2 || hist[1].Hash != h[1] {
		t.Errorf("History after reopen = %+v, %v", hist, err)
	}
	if _, err := s.Node(ctx, "n1"); err != nil {
		t.Error(err)
	}
	if _, err := s.Execution(ctx, "default", "web", "e1"); err != nil {
		t.Error(err)
	}
	if ok, err := s.HasDocument(ctx, doc); !ok || err != nil {
		t.Errorf("HasDocument after reopen = %v, %v", ok, err)
	}
	if _, err := s.Spec(ctx, h[0]); err != nil {
		t.Error(err)
	}
}

func TestListenerRequiresToken(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir(), Options{Listen: "127.0.0.1:0", Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Nodes(ctx); err != nil {
		t.Fatalf("the in-process connection: %v", err)
	}
	if c, err := Connect(ctx, st.ClientURL()); err == nil {
		c.Close()
		t.Fatal("connected without the token")
	}
	c, err := Connect(ctx, st.ClientURL(), nats.Token("s3cret"))
	if err != nil {
		t.Fatalf("with the token: %v", err)
	}
	c.Close()
}

// TestLockWaitTellsHolder: a process that finds the directory held says at
// once whom it waits for (pid, command, start time from the lock file),
// once, and fails with the same holder when the wait runs out.
func TestLockWaitTellsHolder(t *testing.T) {
	dir := t.TempDir()
	child := startChild(t, "hold", dir, "")

	var told []*LockedError
	start := time.Now()
	var toldAfter time.Duration
	_, err := Open(context.Background(), dir, Options{
		LockWait: 600 * time.Millisecond,
		OnLockWait: func(le *LockedError) {
			told = append(told, le)
			toldAfter = time.Since(start)
		},
	})
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Open while the child holds the lock = %v, want *LockedError", err)
	}
	if time.Since(start) < 600*time.Millisecond {
		t.Errorf("Open gave up after %s, before its LockWait", time.Since(start))
	}
	if len(told) != 1 {
		t.Fatalf("OnLockWait called %d times, want once", len(told))
	}
	if toldAfter > 300*time.Millisecond {
		t.Errorf("OnLockWait came %s after Open started, want at once", toldAfter)
	}
	for _, e := range []*LockedError{told[0], le} {
		if e.PID != child.Process.Pid || e.Command != "state test hold" || e.Started.IsZero() || e.Dir != dir {
			t.Errorf("holder = %+v, want pid %d, command %q", e, child.Process.Pid, "state test hold")
		}
	}
	want := fmt.Sprintf("process %d (state test hold, started ", child.Process.Pid)
	if !strings.Contains(le.Holder(), want) || !strings.Contains(err.Error(), want) {
		t.Errorf("Holder() = %q, error %q; want them to contain %q", le.Holder(), err, want)
	}
}

// TestLockNoWaitNoTell: without a wait, OnLockWait is never called; with a
// free directory neither.
func TestLockNoWaitNoTell(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	called := 0
	opts := Options{OnLockWait: func(*LockedError) { called++ }, Holder: "first"}
	s, err := Open(ctx, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := Open(ctx, dir, opts); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want locked", err)
	}
	if called != 0 {
		t.Errorf("OnLockWait called %d times without a wait", called)
	}
	if (&LockedError{}).Holder() != "another process" {
		t.Errorf("Holder of an unknown process = %q", (&LockedError{}).Holder())
	}
}

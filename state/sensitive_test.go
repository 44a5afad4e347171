package state

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/muster-dev/muster/schema"
)

func testSensitivePaths(t *testing.T, b backend) {
	s := b.fresh(t, true)
	ctx := ctxT(t)
	spec := []byte(`{"labels":{"a.b":"x"},"task":{"cmd":["run","pw"],"env":{"A":"1","B":"2","C":"3","D":"4"}}}`)
	hash, err := s.PutSpec(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.SensitivePaths(ctx, hash); err != nil || got != nil {
		t.Fatalf("SensitivePaths before any = %q, %v; want none", got, err)
	}
	if got, err := s.SensitivePaths(ctx, schema.HashBytes([]byte("not stored"))); err != nil || got != nil {
		t.Fatalf("SensitivePaths of a spec not stored = %q, %v; want none", got, err)
	}

	// Every write adds; nothing is ever taken away.
	got, err := s.AddSensitivePaths(ctx, hash, []string{"task.env.B", "task.cmd[1]"})
	if want := []string{"task.cmd[1]", "task.env.B"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("AddSensitivePaths = %q, %v; want %q", got, err, want)
	}
	got, err = s.AddSensitivePaths(ctx, hash, []string{`labels["a.b"]`})
	if want := []string{`labels["a.b"]`, "task.cmd[1]", "task.env.B"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("second AddSensitivePaths = %q, %v; want %q", got, err, want)
	}
	if again, err := s.AddSensitivePaths(ctx, hash, nil); err != nil || !reflect.DeepEqual(again, got) {
		t.Fatalf("AddSensitivePaths of none = %q, %v; want %q", again, err, got)
	}
	// A path that holds others replaces them.
	got, err = s.AddSensitivePaths(ctx, hash, []string{"task.env"})
	if want := []string{`labels["a.b"]`, "task.cmd[1]", "task.env"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("AddSensitivePaths of a map = %q, %v; want %q", got, err, want)
	}
	if read, err := s.SensitivePaths(ctx, hash); err != nil || !reflect.DeepEqual(read, got) {
		t.Fatalf("SensitivePaths = %q, %v; want %q", read, err, got)
	}

	// Bad input.
	for _, c := range []struct {
		name, hash string
		paths      []string
		notFound   bool
		errPart    string
	}{
		{"no such path", hash, []string{"task.env.NOPE"}, false, "task.env.NOPE"},
		{"no such element", hash, []string{"task.cmd[2]"}, false, "task.cmd[2]"},
		{"bad hash", "sha256:abc", []string{"task"}, false, "invalid spec hash"},
		{"spec not stored", schema.HashBytes([]byte("other")), []string{"task"}, true, "not found"},
		{"too many", hash, make([]string, MaxSensitivePaths+1), false, "at most"},
	} {
		_, err := s.AddSensitivePaths(ctx, c.hash, c.paths)
		if err == nil || errors.Is(err, ErrNotFound) != c.notFound || !c.notFound && !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.errPart) {
			t.Errorf("%s: AddSensitivePaths error = %v; want not-found %v containing %q", c.name, err, c.notFound, c.errPart)
		}
	}
	if _, err := s.SensitivePaths(ctx, "sha256:abc"); !errors.Is(err, ErrInvalid) {
		t.Errorf("SensitivePaths of a bad hash: %v", err)
	}

	// Writers on two connections at once: the record is their union.
	other := b.connect(t, s)
	spec2 := []byte(`{"env":{"A":"1","B":"2","C":"3","D":"4","E":"5","F":"6"}}`)
	hash2, err := s.PutSpec(ctx, spec2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	keys := "ABCDEF"
	for i := range keys {
		st := s
		if i%2 == 1 {
			st = other
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.AddSensitivePaths(ctx, hash2, []string{fmt.Sprintf("env.%c", keys[i])}); err != nil {
				t.Errorf("concurrent AddSensitivePaths: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err = other.SensitivePaths(ctx, hash2)
	if want := []string{"env.A", "env.B", "env.C", "env.D", "env.E", "env.F"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after concurrent writes: %q, %v; want %q", got, err, want)
	}
}

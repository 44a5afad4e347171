package state

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkCommitVersion commits a new version per op (alternating two
// stored specs) on an embedded store with file storage.
func BenchmarkCommitVersion(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	h := putSpecs(b, s, "bench", 2)
	var rev uint64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		st, err := s.CommitVersion(ctx, "default", "bench", h[i%2], rev, StateDeploying)
		if err != nil {
			b.Fatal(err)
		}
		rev = st.Revision
	}
	b.ReportMetric(float64(rev)/time.Since(start).Seconds(), "commits/s")
}

// BenchmarkApplyPath is what one apply of a changed job costs in the store:
// read the status, store the spec, commit, set the state once.
func BenchmarkApplyPath(b *testing.B) {
	ctx := context.Background()
	s, err := Open(ctx, b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		st, err := s.Job(ctx, "default", "web")
		if err != nil && i > 0 {
			b.Fatal(err)
		}
		h, err := s.PutSpec(ctx, fmt.Appendf(nil, `{"name":"web","i":%d}`, i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.CommitVersion(ctx, "default", "web", h, st.Revision, StateDeploying); err != nil {
			b.Fatal(err)
		}
		if _, err := s.UpdateStatus(ctx, "default", "web", func(j *JobStatus) error { j.State = StateRunning; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenClose measures the fixed cost an embedded command pays:
// Open (lock, start nats-server with JetStream, connect), one read, Close.
func BenchmarkOpenClose(b *testing.B) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		seed bool
	}{{"empty", false}, {"with-data", true}} {
		b.Run(c.name, func(b *testing.B) {
			dir := b.TempDir()
			if c.seed {
				s, err := Open(ctx, dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				h := putSpecs(b, s, "seed", 50)
				for i, hh := range h {
					if _, err := s.CommitVersion(ctx, "default", fmt.Sprint("job-", i%10), hh, uint64(i/10), StateRunning); err != nil {
						b.Fatal(err)
					}
				}
				s.Close()
			}
			b.ReportAllocs()
			for b.Loop() {
				s, err := Open(ctx, dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Jobs(ctx); err != nil {
					b.Fatal(err)
				}
				if err := s.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

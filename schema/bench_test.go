package schema_test

import (
	"crypto/sha256"
	"slices"
	"testing"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/schema"
	jobvalidate "github.com/muster-dev/muster/validate"
)

// corpusJobs returns the validated jobs of the shared generated corpus
// (bench/jobgen).
func corpusJobs(b *testing.B) []*schema.Job {
	var out []*schema.Job
	for i, src := range jobgen.Sources(jobgen.BenchSeed, jobgen.BenchFiles, jobgen.YAML) {
		trees, diags := yaml.Parse("job.yaml", src, lang.Options{})
		if diags.HasErrors() {
			b.Fatalf("file %d: %v", i, diags.Err())
		}
		for _, t := range trees {
			j, diags := jobvalidate.Job(t)
			if j == nil {
				b.Fatalf("file %d: %v", i, diags.Err())
			}
			out = append(out, j)
		}
	}
	return out
}

// unnormalize undoes what Normalize does to a normalized job, on a copy:
// sets in reverse order, the defaults that mean "unset" cleared.
func unnormalize(j *schema.Job) schema.Job {
	c := *j
	c.Namespace, c.RestartPolicy, c.Rollout.Strategy, c.Task.Network = "", "", "", ""
	c.Selector.MatchExpressions = reversed(j.Selector.MatchExpressions)
	c.Selector.MatchIDs = reversed(j.Selector.MatchIDs)
	c.Task.Inputs = slices.Clone(j.Task.Inputs)
	slices.Reverse(c.Task.Inputs)
	c.Task.Outputs = slices.Clone(j.Task.Outputs)
	slices.Reverse(c.Task.Outputs)
	return c
}

func reversed(s []string) []string {
	c := slices.Clone(s)
	slices.Reverse(c)
	return c
}

// BenchmarkNormalize normalizes one job per op. The sets of each job are
// copied in reverse order first (included in the time: a few small slice
// copies), because Normalize sorts them in place.
func BenchmarkNormalize(b *testing.B) {
	jobs := corpusJobs(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j := unnormalize(jobs[i%len(jobs)])
		schema.Normalize(&j)
	}
}

// BenchmarkCanonical encodes one normalized job per op as RFC 8785 bytes.
func BenchmarkCanonical(b *testing.B) {
	jobs := corpusJobs(b)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += len(jobs[i%len(jobs)].Canonical())
	}
	b.SetBytes(int64(n / b.N))
}

// BenchmarkHash is Canonical plus SHA-256 and hex: the spec hash of one job
// per op.
func BenchmarkHash(b *testing.B) {
	jobs := corpusJobs(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if h := jobs[i%len(jobs)].Hash(); len(h) != len(schema.HashPrefix)+2*sha256.Size {
			b.Fatal(h)
		}
	}
}

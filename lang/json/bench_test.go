package json_test

import (
	"testing"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/json"
)

// BenchmarkParse parses the shared generated corpus (bench/jobgen) into
// lang value trees; one op is one file.
func BenchmarkParse(b *testing.B) {
	srcs := jobgen.Sources(jobgen.BenchSeed, jobgen.BenchFiles, jobgen.JSON)
	n := 0
	for _, s := range srcs {
		n += len(s)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n / len(srcs)))
	for i := 0; b.Loop(); i++ {
		jobs, diags := json.Parse("job.json", srcs[i%len(srcs)], lang.Options{})
		if diags.HasErrors() || len(jobs) == 0 {
			b.Fatalf("file %d: %v", i%len(srcs), diags.Err())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

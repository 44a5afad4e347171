package validate_test

import (
	"testing"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
	"github.com/muster-dev/muster/validate"
)

// BenchmarkJob validates, defaults and normalizes the jobs of the shared
// generated corpus (bench/jobgen), parsed once beforehand; one op is one
// job.
func BenchmarkJob(b *testing.B) {
	var trees []*lang.Value
	for i, src := range jobgen.Sources(jobgen.BenchSeed, jobgen.BenchFiles, jobgen.YAML) {
		jobs, diags := yaml.Parse("job.yaml", src, lang.Options{})
		if diags.HasErrors() {
			b.Fatalf("file %d: %v", i, diags.Err())
		}
		trees = append(trees, jobs...)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		j, diags := validate.Job(trees[i%len(trees)])
		if j == nil {
			b.Fatalf("job %d: %v", i%len(trees), diags.Err())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

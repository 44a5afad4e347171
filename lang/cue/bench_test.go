package cue

import (
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/validate"
)

// BenchmarkParse parses the example job of the package tests: one small
// job unified with #Job, checked concrete and exported.
func BenchmarkParse(b *testing.B) {
	src := []byte(webCUE)
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		jobs, diags := Parse("web.cue", src, lang.Options{})
		if len(jobs) != 1 || len(diags) != 0 {
			b.Fatalf("%v", diags)
		}
	}
}

// BenchmarkParseValidateParallel is what `muster validate` does per file,
// on every core: parse, then validate and hash.
func BenchmarkParseValidateParallel(b *testing.B) {
	src := []byte(webCUE)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			jobs, _ := Parse("web.cue", src, lang.Options{})
			j, _ := validate.Job(jobs[0])
			_ = j.Hash()
		}
	})
}

// BenchmarkParseInvalid measures the error path: the job is explained by
// the validator and CUE's own errors.
func BenchmarkParseInvalid(b *testing.B) {
	src := []byte("name: \"Web\"\ntask: {engine: \"docker\", imgae: \"x\", image: string}\npriority: 500\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Parse("bad.cue", src, lang.Options{}); len(diags) == 0 {
			b.Fatal("no diagnostics")
		}
	}
}

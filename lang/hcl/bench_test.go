package hcl

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/muster-dev/muster/lang"
)

func benchFile(b *testing.B, path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		jobs, diags := Parse(path, src, lang.Options{})
		if len(jobs) == 0 || diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// BenchmarkParse parses a realistic job file with variables, locals,
// functions, templates and every kind of block.
func BenchmarkParse(b *testing.B) { benchFile(b, "../../examples/nightly-report/job.hcl") }

// BenchmarkParseSmall parses the smallest useful job.
func BenchmarkParseSmall(b *testing.B) { benchFile(b, "../../examples/hello/job.hcl") }

// BenchmarkParseCorpus parses generated job files like those of
// bench/compile (testdata/corpus), one file per iteration.
func BenchmarkParseCorpus(b *testing.B) { benchCorpus(b) }

// BenchmarkParseCorpusHCLSyntax is BenchmarkParseCorpus without the fast
// path: what hclsyntax alone costs.
func BenchmarkParseCorpusHCLSyntax(b *testing.B) {
	useFast = false
	defer func() { useFast = true }()
	benchCorpus(b)
}

func benchCorpus(b *testing.B) {
	paths, err := filepath.Glob("testdata/corpus/*.hcl")
	if err != nil || len(paths) == 0 {
		b.Fatal("no corpus", err)
	}
	srcs := make([][]byte, len(paths))
	size := 0
	for i, p := range paths {
		if srcs[i], err = os.ReadFile(p); err != nil {
			b.Fatal(err)
		}
		size += len(srcs[i])
	}
	b.ReportAllocs()
	b.SetBytes(int64(size / len(srcs)))
	i := 0
	for b.Loop() {
		jobs, diags := Parse(paths[i], srcs[i], lang.Options{})
		if len(jobs) == 0 || diags.HasErrors() {
			b.Fatal(paths[i], diags)
		}
		i = (i + 1) % len(srcs)
	}
}

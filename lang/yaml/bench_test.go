package yaml_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	yamlv4 "go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
)

// The benchmarks run over the shared generated corpus (bench/jobgen); one
// op is one file, so ns/op is the cost of one job file of 20-60 lines.

// BenchmarkParse is the whole frontend: the fast path, which takes every
// generated file.
func BenchmarkParse(b *testing.B) { benchParse(b) }

// BenchmarkParseSlow is the frontend without the fast path:
// go.yaml.in/yaml/v4 into yaml.Node, then the conversion into the lang
// value tree.
func BenchmarkParseSlow(b *testing.B) {
	yaml.SetFast(false)
	defer yaml.SetFast(true)
	benchParse(b)
}

func benchParse(b *testing.B) {
	srcs := jobgen.Sources(jobgen.BenchSeed, jobgen.BenchFiles, jobgen.YAML)
	b.ReportAllocs()
	b.SetBytes(meanSize(srcs))
	for i := 0; b.Loop(); i++ {
		jobs, diags := yaml.Parse("job.yaml", srcs[i%len(srcs)], lang.Options{})
		if diags.HasErrors() || len(jobs) == 0 {
			b.Fatalf("file %d: %v", i%len(srcs), diags.Err())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkDecodeNode is the library's share of BenchmarkParse: decoding
// every document into a yaml.Node, without the conversion.
func BenchmarkDecodeNode(b *testing.B) {
	srcs := jobgen.Sources(jobgen.BenchSeed, jobgen.BenchFiles, jobgen.YAML)
	b.ReportAllocs()
	b.SetBytes(meanSize(srcs))
	for i := 0; b.Loop(); i++ {
		dec := yamlv4.NewDecoder(bytes.NewReader(srcs[i%len(srcs)]))
		for {
			var n yamlv4.Node
			err := dec.Decode(&n)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

func meanSize(srcs [][]byte) int64 {
	n := 0
	for _, s := range srcs {
		n += len(s)
	}
	return int64(n / len(srcs))
}

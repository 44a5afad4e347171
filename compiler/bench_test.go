package compiler_test

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

// registered reports whether this build has a frontend for f.
func registered(f compiler.Format) bool {
	for _, d := range compiler.Compile("probe", []byte("{}"), f, lang.Options{}).Diags {
		if strings.Contains(d.Message, "unsupported format") {
			return false
		}
	}
	return true
}

// BenchmarkCompile runs every stage of one file per op (parse, validate,
// defaults, normalize) in each format, over the shared generated corpus
// (bench/jobgen): the same jobs in every format. It is what `muster
// validate` does per file, less reading it and printing.
func BenchmarkCompile(b *testing.B) {
	for _, f := range jobgen.Formats {
		b.Run(string(f), func(b *testing.B) {
			benchCompile(b, f, false)
		})
	}
}

// BenchmarkCompileParallel is BenchmarkCompile on every core at once, as
// `muster validate` runs files on GOMAXPROCS workers.
func BenchmarkCompileParallel(b *testing.B) {
	for _, f := range jobgen.Formats {
		b.Run(string(f), func(b *testing.B) {
			benchCompile(b, f, true)
		})
	}
}

func benchCompile(b *testing.B, f jobgen.Format, parallel bool) {
	cf := compiler.Format(f)
	if !registered(cf) {
		b.Skipf("no %s frontend in this build", f)
	}
	srcs := jobgen.Sources(jobgen.BenchSeed, jobgen.BenchFiles, f)
	name := "job." + string(f)
	for i, src := range srcs {
		if r := compiler.Compile(name, src, cf, lang.Options{}); r.Diags.HasErrors() {
			b.Fatalf("file %d: %v\n%s", i, r.Diags.Err(), src)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				compiler.Compile(name, srcs[i%len(srcs)], cf, lang.Options{})
			}
		})
	} else {
		for i := 0; b.Loop(); i++ {
			compiler.Compile(name, srcs[i%len(srcs)], cf, lang.Options{})
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

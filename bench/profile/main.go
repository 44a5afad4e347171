// Command profile runs the muster CLI in-process under runtime/pprof, so
// that `muster validate` on a whole corpus can be profiled as users run it
// (reading files, GOMAXPROCS workers, reporting), repeated to collect
// enough samples:
//
//	go run ./bench/compile -keep -dir /tmp/mb -no-peers -runs 1
//	go run ./bench/profile -cpuprofile cpu.out -repeat 20 -- validate /tmp/mb/corpus/yaml
//	go tool pprof -top cpu.out
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/muster-dev/muster/cli"
)

func main() {
	cpu := flag.String("cpuprofile", "", "write a CPU profile to this file")
	mem := flag.String("memprofile", "", "write an allocation profile to this file")
	repeat := flag.Int("repeat", 10, "run the command this many times")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: profile [-cpuprofile F] [-memprofile F] [-repeat N] -- COMMAND ARGS...")
		os.Exit(2)
	}
	if *mem != "" {
		runtime.MemProfileRate = 4096
	}
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	os.Args = append([]string{"muster"}, args...)
	var best, total time.Duration
	code := 0
	for i := range *repeat {
		start := time.Now()
		code = cli.Main()
		d := time.Since(start)
		total += d
		if i == 0 || d < best {
			best = d
		}
	}
	if *cpu != "" {
		pprof.StopCPUProfile()
	}
	if *mem != "" {
		f, err := os.Create(*mem)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	fmt.Fprintf(os.Stderr, "profile: %d runs, best %v, mean %v, exit code %d\n", *repeat, best, total/time.Duration(*repeat), code)
	os.Exit(code)
}

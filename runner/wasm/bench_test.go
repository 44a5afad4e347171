package wasm_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/wasm"
	"github.com/muster-dev/muster/schema"
)

// BenchmarkWasm starts and waits for one module run per op, the module
// compiled once before the timer: "go" is the Go hello module of
// testdata/prog (its runtime's start-up included), "tiny" a hand-assembled
// module whose _start grows its memory by 125 MiB and returns: the driver's
// own cost, memory mapping included.
func BenchmarkWasm(b *testing.B) {
	tiny := filepath.Join(b.TempDir(), "tiny.wasm")
	m := trapModule(1, true) // grows 2000 pages, well within 256M
	if err := os.WriteFile(tiny, m, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		image func(b *testing.B) string
		cmd   []string
	}{
		{"go", func(b *testing.B) string { return needProg(b) }, []string{"hello"}},
		{"tiny", func(*testing.B) string { return tiny }, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			image := bc.image(b)
			d := wasm.New()
			j := &schema.Job{Name: "j", Task: schema.Task{Engine: schema.Wasm, Image: image, Cmd: bc.cmd,
				Resources: schema.Resources{CPUs: 1, Memory: 256}}}
			root := b.TempDir()
			ctx := context.Background()
			once := func(i int) {
				s := &runner.Spec{ExecutionID: fmt.Sprint("b", i), Job: j, Root: root,
					Env: map[string]string{"MUSTER_JOB_NAME": "j"}, Stdout: io.Discard, Stderr: io.Discard}
				h, err := d.Start(ctx, s)
				if err != nil {
					b.Fatal(err)
				}
				if res, err := h.Wait(ctx); err != nil || !res.Succeeded() {
					b.Fatalf("%+v %v", res, err)
				}
			}
			once(-1) // compile
			b.ReportAllocs()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				once(i)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "execs/s")
		})
	}
}

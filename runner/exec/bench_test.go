//go:build linux

package exec_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/runner/exec"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// BenchmarkExec starts `true` and waits for it, once per op: the driver's
// own cost per short execution. Run 1,000 of them with -benchtime=1000x.
func BenchmarkExec(b *testing.B) {
	for _, out := range []struct {
		name string
		w    func(b *testing.B) io.Writer
	}{
		{"devnull", func(*testing.B) io.Writer { return nil }},
		{"file", func(b *testing.B) io.Writer {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { f.Close() })
			return f
		}},
		{"pipe", func(*testing.B) io.Writer { return new(bytes.Buffer) }},
	} {
		b.Run(out.name, func(b *testing.B) {
			d := exec.New()
			j := job("true")
			root := b.TempDir()
			w := out.w(b)
			ctx := context.Background()
			b.ReportAllocs()
			start := time.Now()
			for i := 0; b.Loop(); i++ {
				s := &runner.Spec{ExecutionID: fmt.Sprint("b", i), Job: j, Root: root, Env: map[string]string{"MUSTER_JOB_NAME": "j"}, Stdout: w, Stderr: w}
				h, err := d.Start(ctx, s)
				if err != nil {
					b.Fatal(err)
				}
				res, err := h.Wait(ctx)
				if err != nil || !res.Succeeded() {
					b.Fatalf("%+v %v", res, err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "execs/s")
		})
	}
}

// BenchmarkAgentExec runs short exec executions through the node agent, as
// apply does: a stored execution, its root and log files, the driver, and
// every state change recorded in an embedded store. Run 1,000 of them with
// -benchtime=1000x.
func BenchmarkAgentExec(b *testing.B) {
	ctx := context.Background()
	st, err := state.Open(ctx, b.TempDir(), state.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	a := &runner.Agent{NodeID: "n1", Dir: b.TempDir(), Store: st}
	j := job("true")
	j.Task.Resources = schema.Resources{CPUs: 1, Memory: 64}
	b.ReportAllocs()
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		e, err := st.CreateExecution(ctx, state.Execution{ID: fmt.Sprintf("e%06d", i), JobID: "default/j", JobVersion: 1, NodeID: "n1"})
		if err != nil {
			b.Fatal(err)
		}
		_, res, err := a.Run(ctx, e, j)
		if err != nil || !res.Succeeded() {
			b.Fatalf("%+v %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "execs/s")
}

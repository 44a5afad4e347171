package docker

import (
	"context"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// The start-latency benchmarks run the image's quick default ("hello") to
// its end: the driver's Start+Wait (create, start, logs, wait, inspect,
// drain, remove) against the same container created, started, waited and
// removed through the Engine API directly. The target is a driver
// within 1.2x of direct; BenchmarkStartVsDirect interleaves the two so
// that drift of the engine hits both, and reports the ratio.

func BenchmarkStart(b *testing.B) {
	d, _, image := engine(b, Options{})
	root := b.TempDir()
	for b.Loop() {
		benchDriver(b, d, image, root)
	}
}

func BenchmarkDirect(b *testing.B) {
	d, cli, image := engine(b, Options{})
	for b.Loop() {
		benchDirect(b, d, cli, image)
	}
}

func BenchmarkStartVsDirect(b *testing.B) {
	d, cli, image := engine(b, Options{})
	root := b.TempDir()
	benchDriver(b, d, image, root) // warm both paths
	benchDirect(b, d, cli, image)
	var drv, dir time.Duration
	timed := func(f func()) time.Duration {
		t0 := time.Now()
		f()
		return time.Since(t0)
	}
	driver := func() { benchDriver(b, d, image, root) }
	direct := func() { benchDirect(b, d, cli, image) }
	for i := 0; b.Loop(); i++ {
		// Alternate which goes first, so that neither always runs right
		// after the other's removal.
		if i%2 == 0 {
			drv += timed(driver)
			dir += timed(direct)
		} else {
			dir += timed(direct)
			drv += timed(driver)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(drv.Milliseconds())/n, "driver-ms/op")
	b.ReportMetric(float64(dir.Milliseconds())/n, "direct-ms/op")
	b.ReportMetric(float64(drv)/float64(dir), "ratio")
}

func benchDriver(b *testing.B, d *Driver, image, root string) {
	spec, _, _ := newSpec(b, image)
	spec.Root = root
	if res := run(b, d, spec); !res.Succeeded() {
		b.Fatalf("%+v", res)
	}
}

func benchDirect(b *testing.B, d *Driver, cli *client.Client, image string) {
	ctx := context.Background()
	spec, _, _ := newSpec(b, image)
	cfg, hc := d.containerConfig(spec)
	c, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Config: cfg, HostConfig: hc, Name: ContainerName(spec.ExecutionID)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{}); err != nil {
		b.Fatal(err)
	}
	w := cli.ContainerWait(ctx, c.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case r := <-w.Result:
		if r.StatusCode != 0 {
			b.Fatalf("exit %d", r.StatusCode)
		}
	case err := <-w.Error:
		b.Fatal(err)
	}
	if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil {
		b.Fatal(err)
	}
}

package plan

import (
	"context"
	"fmt"
	"testing"

	"github.com/muster-dev/muster/schema"
)

// inventory makes n nodes with realistic labels: region, zone, arch, os and
// a few odd ones.
func inventory(n int) []Node {
	regions := []string{"eu-west", "eu-central", "us-east", "us-west", "ap-south"}
	return nodes(n, func(i int) map[string]string {
		l := map[string]string{
			"region":   regions[i%len(regions)],
			"zone":     fmt.Sprintf("z%d", i%3),
			"arch":     []string{"amd64", "arm64"}[i%2],
			"os":       "linux",
			"hostname": fmt.Sprintf("host-%d", i),
		}
		if i%7 == 0 {
			l["gpu"] = "a100"
		}
		return l
	})
}

const benchJob = `
name: web
type: daemon
selector:
  match_labels: {os: linux}
  match_expressions: ["region in (eu-west,eu-central,us-east)", "arch!=arm64", "!maintenance"]
rollout: {strategy: canary, canary_percent: 5, max_parallel: 10}
task: {engine: docker, image: "web:1"}
`

// BenchmarkPlanNodes plans one daemon job (every matching node is a target)
// against inventories of growing size; ns/op should grow about linearly.
func BenchmarkPlanNodes(b *testing.B) {
	j := job(b, benchJob)
	for _, n := range []int{1_000, 10_000, 100_000} {
		inv := inventory(n)
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Make(context.Background(), memState{}, []*schema.Job{j}, inv, "bench"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPlanJobs plans 1,000 distinct jobs, half of them updates, against
// 1,000 nodes.
func BenchmarkPlanJobs(b *testing.B) {
	inv := inventory(1_000)
	jobs := make([]*schema.Job, 1000)
	st := memState{}
	for i := range jobs {
		jobs[i] = job(b, fmt.Sprintf(`
name: job-%d
type: %s
selector: {match_expressions: ["region in (eu-west,us-east)"]}
rollout: {max_parallel: 20}
task: {engine: exec, cmd: [run, "%d"]}
`, i, []string{"daemon", "service"}[i%2], i))
		if i%2 == 0 {
			old := *jobs[i]
			old.Task.Cmd = []string{"run", "old"}
			st["default/"+old.Name] = stored(&old, 1, 1)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Make(context.Background(), st, jobs, inv, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPlanCapacity places a service of 5,000 executions over 10,000
// nodes that advertise a capacity and hold the load of 20 other jobs, a
// tenth of them full: room is counted on every node reached.
func BenchmarkPlanCapacity(b *testing.B) {
	inv := inventory(10_000)
	for i := range inv {
		inv[i].Capacity = Resources{MilliCPUs: 8000, MemoryMB: 16384}
		inv[i].Load = map[string]Resources{}
		for k := range 20 {
			inv[i].Load[fmt.Sprintf("default/other-%d", k)] = Resources{MilliCPUs: 250, MemoryMB: 256}
		}
		if i%10 == 0 {
			inv[i].Load["default/hog"] = Resources{MilliCPUs: 3000}
		}
	}
	j := job(b, "name: web\ntype: service\ncount: 5000\nselector: {match_labels: {os: linux}}\ntask: {engine: exec, cmd: [serve], resources: {cpus: 2, memory: 1G}}\n")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Make(context.Background(), memState{}, []*schema.Job{j}, inv, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

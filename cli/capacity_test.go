package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestDevCapacity: 'muster dev --cpus 2' runs two executions of a 1-cpu
// service of count 3 and leaves the third waiting, the job degraded with
// the reason in its status; 'muster nodes' shows the room used; a batch
// job that fits nowhere waits queued, saying why, and runs once the
// service stops and frees the room.
func TestDevCapacity(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiRE, "dev", "--listen", "127.0.0.1:0", "--cpus", "2", "--memory", "1G")
	dev.waitFor(`local node: \S+ \(2 cpus, 1G of memory\)`)
	web := c.write("web.yaml", `name: web
type: service
count: 3
task: {engine: exec, cmd: [sleep, "300"], resources: {memory: 128M}}
rollout: {health_check: {min_healthy_time: 200ms, interval: 100ms}}
`)
	const why = "no matching node has 1 cpu free (largest free: 0 cpus on "
	if r := c.ok("plan", web); !strings.Contains(r.stdout, "warning: 1 execution cannot be placed: "+why) ||
		!strings.Contains(r.stdout, "the job runs degraded with 2 executions until room frees") {
		t.Errorf("the plan does not say why the third execution cannot be placed:\n%v", r)
	}
	c.ok("apply", "--auto-approve", web)
	st := c.waitState("web", "degraded")
	if !strings.Contains(st.Message, "version 1 degraded: 2 of 3 executions running (on 1 node), 1 not running; 1 execution cannot be placed: "+why) {
		t.Errorf("status message %q does not say why one execution waits", st.Message)
	}
	if got := len(c.running("web", 1)); got != 2 {
		t.Errorf("%d executions of web run, want 2", got)
	}

	out := c.ok("nodes").stdout
	if !strings.Contains(out, " 2 (2 used, 0 free) ") || !strings.Contains(out, " 1G (256M used, 768M free) ") {
		t.Errorf("muster nodes does not show the room used:\n%s", out)
	}
	nodes := decode[[]struct {
		Capacity struct {
			CPUs     float64 `json:"cpus"`
			MemoryMB int64   `json:"memory_mb"`
		} `json:"capacity"`
		Used struct {
			CPUs     float64 `json:"cpus"`
			MemoryMB int64   `json:"memory_mb"`
		} `json:"used"`
		Free struct {
			CPUs     *float64 `json:"cpus"`
			MemoryMB *int64   `json:"memory_mb"`
		} `json:"free"`
	}](t, c.ok("nodes", "-o", "json"))
	if len(nodes) != 1 || nodes[0].Capacity.CPUs != 2 || nodes[0].Capacity.MemoryMB != 1024 || nodes[0].Used.CPUs != 2 ||
		nodes[0].Used.MemoryMB != 256 || nodes[0].Free.CPUs == nil || *nodes[0].Free.CPUs != 0 || *nodes[0].Free.MemoryMB != 768 {
		t.Errorf("muster nodes -o json: %+v", nodes)
	}
	// The control plane adds up every namespace's executions, also for a
	// token of another namespace, which reads no job of default.
	team := strings.TrimSpace(c.ok("token", "create", "--namespace", "team", "--role", "read").stdout)
	if got := servedNodeUse(t, "http://"+dev.waitFor(apiRE), team); got != "2 cpus, 256 MiB" {
		t.Errorf("GET /v1/nodes?usage=true with a token of namespace team: used %s, want 2 cpus, 256 MiB", got)
	}

	batch := c.write("crunch.yaml", `name: crunch
task: {engine: exec, cmd: [sh, -c, "echo crunched"], resources: {cpus: 1, memory: 64M}}
`)
	c.ok("apply", "--auto-approve", "--detach", batch)
	st = c.waitState("crunch", "queued")
	if !strings.HasPrefix(st.Message, "version 1 waits for room: 1 execution cannot be placed: "+why) {
		t.Errorf("queued message %q", st.Message)
	}
	c.ok("stop", "web")
	if st := c.waitState("crunch", "completed", "failed"); st.State != "completed" {
		t.Errorf("after the service stopped, crunch is %s: %s", st.State, st.Message)
	}
}

// servedNodeUse reads GET /v1/nodes at base with token and says what its
// one node's executions hold.
func servedNodeUse(t *testing.T, base, token string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/nodes?usage=true", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var nodes []struct {
		Used *struct {
			CPUs     float64 `json:"cpus"`
			MemoryMB int64   `json:"memory_mb"`
		} `json:"used"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&nodes); err != nil || resp.StatusCode != http.StatusOK || len(nodes) != 1 || nodes[0].Used == nil {
		t.Fatalf("GET /v1/nodes?usage=true: %d %+v %v", resp.StatusCode, nodes, err)
	}
	return fmt.Sprintf("%g cpus, %d MiB", nodes[0].Used.CPUs, nodes[0].Used.MemoryMB)
}

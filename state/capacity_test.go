package state

import (
	"encoding/json"
	"runtime"
	"testing"
)

func TestCapacity(t *testing.T) {
	c, note := DetectCapacity()
	if c.CPUs != float64(runtime.NumCPU()) {
		t.Errorf("detected %v cpus, want runtime.NumCPU() = %d", c.CPUs, runtime.NumCPU())
	}
	if runtime.GOOS == "linux" && (c.MemoryMB <= 0 || note != "") {
		t.Errorf("detected %d MiB of memory on Linux (%s)", c.MemoryMB, note)
	}
	if got := memTotalKB([]byte("MemFree: 10 kB\nMemTotal:       16309516 kB\n")); got != 16309516 {
		t.Errorf("memTotalKB = %d", got)
	}

	// Older records have no capacity: they read as unlimited.
	var n Node
	if err := json.Unmarshal([]byte(`{"id":"n1","labels":{},"last_seen":"2026-01-02T03:04:05Z","status":"ready"}`), &n); err != nil {
		t.Fatal(err)
	}
	if n.Capacity != nil || !n.Capacity.Unlimited() || n.Capacity.String() != "unlimited" {
		t.Errorf("an older record reads as %+v", n.Capacity)
	}
	n.Capacity = &Capacity{CPUs: 2, MemoryMB: 1536}
	b, _ := json.Marshal(n)
	if want := `{"id":"n1","labels":{},"last_seen":"2026-01-02T03:04:05Z","status":"ready","capacity":{"cpus":2,"memory_mb":1536}}`; string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	if s := n.Capacity.String(); s != "2 cpus, 1536M of memory" {
		t.Errorf("String() = %q", s)
	}
	for _, bad := range []Capacity{{CPUs: -1}, {MemoryMB: -5}, {CPUs: 1 << 30}} {
		n.Capacity = &bad
		if n.Validate() == nil {
			t.Errorf("capacity %+v validates", bad)
		}
	}
	for in, want := range map[string]float64{"4": 4, "0.5": 0.5, "500m": 0.5} {
		if got, err := ParseCapacityCPUs(in); err != nil || got != want {
			t.Errorf("ParseCapacityCPUs(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0", "-1", "0m", "x"} {
		if _, err := ParseCapacityCPUs(in); err == nil {
			t.Errorf("ParseCapacityCPUs(%q) took it", in)
		}
	}
	for in, want := range map[string]int64{"512M": 512, "8G": 8192, "2Gi": 2048} {
		if got, err := ParseCapacityMemory(in); err != nil || got != want {
			t.Errorf("ParseCapacityMemory(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"0M", "8", "8GB"} {
		if _, err := ParseCapacityMemory(in); err == nil {
			t.Errorf("ParseCapacityMemory(%q) took it", in)
		}
	}
}

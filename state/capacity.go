package state

import (
	"fmt"
	"math"
	"runtime"
	"strconv"

	"github.com/muster-dev/muster/schema"
)

// Capacity is what a node offers the executions placed on it
// (docs/spec.md section 4, nodes and capacity): cpus and memory, each
// detected on the node or given with --cpus and --memory. A zero field is
// not advertised, and placement treats it as unlimited; a node record
// without a capacity (written before nodes advertised one) is unlimited in
// both.
type Capacity struct {
	// CPUs is a number of cores, in steps of a thousandth (a millicore);
	// 0: not advertised.
	CPUs float64 `json:"cpus,omitempty"`
	// MemoryMB is the memory in MiB; 0: not advertised.
	MemoryMB int64 `json:"memory_mb,omitempty"`
}

// maxCapacityCPUs bounds what a node may advertise: far beyond any machine,
// small enough that millicores fit in an int64 with room to add.
const maxCapacityCPUs = 1 << 20

// Validate checks that c holds no negative, infinite or absurd value.
func (c *Capacity) Validate() error {
	if c == nil {
		return nil
	}
	if math.IsNaN(c.CPUs) || c.CPUs < 0 || c.CPUs > maxCapacityCPUs {
		return invalidf("capacity cpus %v: want a number of cores from 0 to %d", c.CPUs, maxCapacityCPUs)
	}
	if c.MemoryMB < 0 || c.MemoryMB > int64(math.MaxInt64>>21) {
		return invalidf("capacity memory_mb %d: want a number of MiB of at least 0", c.MemoryMB)
	}
	return nil
}

// Unlimited reports whether c advertises nothing (nil or zero).
func (c *Capacity) Unlimited() bool { return c == nil || c.CPUs == 0 && c.MemoryMB == 0 }

// String prints c for people: "2 cpus, 8G", with "unlimited" for what is
// not advertised.
func (c *Capacity) String() string {
	if c.Unlimited() {
		return "unlimited"
	}
	cpus, mem := "unlimited cpus", "unlimited memory"
	if c.CPUs > 0 {
		cpus = FormatCPUs(c.CPUs)
		if c.CPUs == 1 {
			cpus += " cpu"
		} else {
			cpus += " cpus"
		}
	}
	if c.MemoryMB > 0 {
		mem = schema.Memory(c.MemoryMB).String() + " of memory"
	}
	return cpus + ", " + mem
}

// FormatCPUs prints a number of cores as the shortest decimal of its
// millicores: 2, 0.5, 1.25.
func FormatCPUs(cpus float64) string {
	return strconv.FormatFloat(math.Round(cpus*1000)/1000, 'f', -1, 64)
}

// ParseCapacityCPUs reads what --cpus and an inventory's cpus take: a
// number of cores ("4", "0.5") or millicores ("500m"), more than 0.
func ParseCapacityCPUs(s string) (float64, error) {
	v, err := schema.ParseCPUs(s)
	if err != nil {
		return 0, err
	}
	if v <= 0 || v > maxCapacityCPUs {
		return 0, fmt.Errorf("cpus %q: want more than 0 and at most %d", s, maxCapacityCPUs)
	}
	return v, nil
}

// ParseCapacityMemory reads what --memory and an inventory's memory take:
// `<n>M`, `<n>G`, `<n>Mi` or `<n>Gi` (binary units, as task.resources.memory),
// at least 1M. It returns MiB.
func ParseCapacityMemory(s string) (int64, error) {
	m, err := schema.ParseMemory(s)
	if err != nil {
		return 0, err
	}
	if m <= 0 {
		return 0, fmt.Errorf("memory %q: want at least 1M", s)
	}
	return int64(m), nil
}

// DetectCapacity returns what this machine offers: its cpus
// (runtime.NumCPU: those this process may run on) and its memory (on Linux
// the total of /proc/meminfo, or the memory.max of this process's cgroup
// when that is lower; on macOS and the BSDs the physical memory; elsewhere
// none, which advertises unlimited memory). note says what could not be
// detected, "" when both were.
func DetectCapacity() (c Capacity, note string) {
	c.CPUs = float64(runtime.NumCPU())
	mb, err := detectMemoryMB()
	if err != nil || mb <= 0 {
		why := "not detected on " + runtime.GOOS
		if err != nil {
			why = err.Error()
		}
		return c, "the memory of this node could not be detected (" + why + "): it advertises none, so placement does not count memory here; give --memory to advertise some"
	}
	c.MemoryMB = mb
	return c, ""
}

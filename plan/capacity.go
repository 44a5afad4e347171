package plan

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/muster-dev/muster/schema"
)

// Resources is an amount of cpus, in millicores (thousandths of a core,
// so that sums are exact), and of memory, in MiB. As a node's capacity a
// zero field is not advertised: unlimited.
type Resources struct {
	MilliCPUs int64 `json:"millicpus"`
	MemoryMB  int64 `json:"memory_mb"`
}

// Add returns r plus o.
func (r Resources) Add(o Resources) Resources {
	return Resources{MilliCPUs: r.MilliCPUs + o.MilliCPUs, MemoryMB: r.MemoryMB + o.MemoryMB}
}

// Times returns r n times.
func (r Resources) Times(n int) Resources {
	return Resources{MilliCPUs: r.MilliCPUs * int64(n), MemoryMB: r.MemoryMB * int64(n)}
}

// IsZero reports whether r holds nothing.
func (r Resources) IsZero() bool { return r.MilliCPUs == 0 && r.MemoryMB == 0 }

// MilliCPUs converts a number of cores to millicores, rounded; a positive
// number of cores is at least 1.
func MilliCPUs(cpus float64) int64 {
	if cpus <= 0 || math.IsNaN(cpus) {
		return 0
	}
	return max(1, int64(math.Round(cpus*1000)))
}

// TaskResources is what one execution of j holds on its node: its
// task.resources.
func TaskResources(j *schema.Job) Resources {
	return Resources{MilliCPUs: MilliCPUs(j.Task.Resources.CPUs), MemoryMB: int64(j.Task.Resources.Memory)}
}

// unlimited stands for a dimension a node does not advertise.
const unlimited = math.MaxInt64

// room is what a node can still give a job: its capacity less the load
// of the executions placed there (unlimited where it advertises none).
type room struct {
	id    string
	total Resources // the advertised capacity, unlimited fields as such
	free  Resources
}

// roomOf computes n's room for job ref: the load of every other job, and
// the job's own too when own is set.
func roomOf(n *Node, ref string, own bool) room {
	r := room{id: n.ID, total: n.Capacity, free: n.Capacity}
	if r.total.MilliCPUs <= 0 && r.total.MemoryMB <= 0 {
		// Advertises nothing: nothing to count.
		r.total = Resources{MilliCPUs: unlimited, MemoryMB: unlimited}
		r.free = r.total
		return r
	}
	if r.total.MilliCPUs <= 0 {
		r.total.MilliCPUs, r.free.MilliCPUs = unlimited, unlimited
	}
	if r.total.MemoryMB <= 0 {
		r.total.MemoryMB, r.free.MemoryMB = unlimited, unlimited
	}
	for job, l := range n.Load {
		if job == ref && !own {
			continue
		}
		if r.free.MilliCPUs != unlimited {
			r.free.MilliCPUs -= l.MilliCPUs
		}
		if r.free.MemoryMB != unlimited {
			r.free.MemoryMB -= l.MemoryMB
		}
	}
	return r
}

// fits reports whether need fits in the room left.
func (r *room) fits(need Resources) bool {
	return need.MilliCPUs <= r.free.MilliCPUs && need.MemoryMB <= r.free.MemoryMB
}

// take uses need of the room.
func (r *room) take(need Resources) {
	if r.free.MilliCPUs != unlimited {
		r.free.MilliCPUs -= need.MilliCPUs
	}
	if r.free.MemoryMB != unlimited {
		r.free.MemoryMB -= need.MemoryMB
	}
}

// FormatCPUs prints millicores as cores: "1 cpu", "4 cpus", "0.5 cpus".
func FormatCPUs(milli int64) string {
	s := strconv.FormatFloat(float64(milli)/1000, 'f', -1, 64)
	if milli == 1000 {
		return s + " cpu"
	}
	return s + " cpus"
}

// FormatMemory prints MiB as muster writes memory: "256M", "2G", "1536M".
func FormatMemory(mb int64) string { return schema.Memory(mb).String() }

// noRoom says why an execution needing need fits none of rooms (the
// matching nodes that could otherwise take it, in id order): which
// resource no node has enough of, and the most any node has free; or that
// none is large enough even empty. subject names the nodes: "no matching
// node".
func noRoom(need Resources, rooms []room, subject string) string {
	if len(rooms) == 0 {
		return subject + " can take one"
	}
	var mostCPU, mostMem, bigCPU, bigMem *room
	for i := range rooms {
		r := &rooms[i]
		if mostCPU == nil || r.free.MilliCPUs > mostCPU.free.MilliCPUs {
			mostCPU = r
		}
		if mostMem == nil || r.free.MemoryMB > mostMem.free.MemoryMB {
			mostMem = r
		}
		if bigCPU == nil || r.total.MilliCPUs > bigCPU.total.MilliCPUs {
			bigCPU = r
		}
		if bigMem == nil || r.total.MemoryMB > bigMem.total.MemoryMB {
			bigMem = r
		}
	}
	cpuShort := need.MilliCPUs > mostCPU.free.MilliCPUs
	memShort := need.MemoryMB > mostMem.free.MemoryMB
	// A task larger than every node, even empty, waits for a larger one.
	var tooBig []string
	if need.MilliCPUs > bigCPU.total.MilliCPUs {
		tooBig = append(tooBig, fmt.Sprintf("%s, the largest has %s (%s)", FormatCPUs(need.MilliCPUs), FormatCPUs(bigCPU.total.MilliCPUs), bigCPU.id))
	}
	if need.MemoryMB > bigMem.total.MemoryMB {
		tooBig = append(tooBig, fmt.Sprintf("%s of memory, the largest has %s (%s)", FormatMemory(need.MemoryMB), FormatMemory(bigMem.total.MemoryMB), bigMem.id))
	}
	if len(tooBig) > 0 {
		return subject + " is large enough: the task needs " + strings.Join(tooBig, "; ")
	}
	cpuFree, memFree := "unlimited cpus on "+mostCPU.id, "unlimited memory on "+mostMem.id
	if mostCPU.free.MilliCPUs != unlimited {
		cpuFree = fmt.Sprintf("%s on %s", FormatCPUs(max(0, mostCPU.free.MilliCPUs)), mostCPU.id)
	}
	if mostMem.free.MemoryMB != unlimited {
		memFree = fmt.Sprintf("%s on %s", FormatMemory(max(0, mostMem.free.MemoryMB)), mostMem.id)
	}
	switch {
	case cpuShort && !memShort:
		return fmt.Sprintf("%s has %s free (largest free: %s)", subject, FormatCPUs(need.MilliCPUs), cpuFree)
	case memShort && !cpuShort:
		return fmt.Sprintf("%s has %s of memory free (largest free: %s)", subject, FormatMemory(need.MemoryMB), memFree)
	case cpuShort && memShort:
		return fmt.Sprintf("%s has %s and %s of memory free (largest free: %s, %s)", subject,
			FormatCPUs(need.MilliCPUs), FormatMemory(need.MemoryMB), cpuFree, memFree)
	}
	// Some node has the cpus, another the memory, none both.
	return fmt.Sprintf("%s has %s and %s of memory free at once (most cpus free: %s; most memory free: %s)", subject,
		FormatCPUs(need.MilliCPUs), FormatMemory(need.MemoryMB), cpuFree, memFree)
}

package state

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
)

// detectMemoryMB returns the memory of this machine in MiB: MemTotal of
// /proc/meminfo, or the memory.max of this process's cgroup (v2) when it
// is lower (a container with a memory limit).
func detectMemoryMB() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	total := memTotalKB(b) >> 10
	if total <= 0 {
		return 0, errors.New("/proc/meminfo has no MemTotal")
	}
	if limit := cgroupMemoryMax(); limit > 0 && limit>>20 < total {
		total = limit >> 20
	}
	return total, nil
}

// memTotalKB reads the MemTotal line of /proc/meminfo ("MemTotal: 16309516
// kB"); 0 when there is none.
func memTotalKB(meminfo []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(meminfo))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

// cgroupMemoryMax returns the memory.max of this process's cgroup v2 in
// bytes, 0 when there is none (no cgroup v2, "max", unreadable).
func cgroupMemoryMax() int64 {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		path, ok := strings.CutPrefix(line, "0::")
		if !ok {
			continue
		}
		v, err := os.ReadFile("/sys/fs/cgroup" + strings.TrimSpace(path) + "/memory.max")
		if err != nil {
			return 0
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	return 0
}

//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package state

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// detectMemoryMB returns the physical memory of this machine in MiB
// (sysctl hw.memsize on macOS, hw.physmem elsewhere).
func detectMemoryMB() (int64, error) {
	name := "hw.physmem"
	if runtime.GOOS == "darwin" {
		name = "hw.memsize"
	}
	b, err := unix.SysctlUint64(name)
	if err != nil {
		return 0, err
	}
	return int64(b >> 20), nil
}

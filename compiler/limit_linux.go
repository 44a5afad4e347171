package compiler

import (
	"os"
	"syscall"
)

// limitData lowers the process's RLIMIT_DATA, which on Linux (since 4.7)
// counts private writable mappings, so the Go heap: an allocation past it
// fails at once and the worker dies with "out of memory".
func limitData(max int64) error {
	return syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: uint64(max), Max: uint64(max)})
}

// pollable returns f read through the runtime's poller. A worker waits on
// its standard input between files; in a blocking read, the runtime's
// monitor thread would wake every few microseconds to take back the
// processor, which costs more than the files on a virtual machine.
func pollable(f *os.File) *os.File {
	if err := syscall.SetNonblock(int(f.Fd()), true); err != nil {
		return f
	}
	return os.NewFile(f.Fd(), f.Name())
}

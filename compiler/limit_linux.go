package compiler

import "syscall"

// limitData lowers the process's RLIMIT_DATA, which on Linux (since 4.7)
// counts private writable mappings, so the Go heap: an allocation past it
// fails at once and the worker dies with "out of memory".
func limitData(max int64) error {
	return syscall.Setrlimit(syscall.RLIMIT_DATA, &syscall.Rlimit{Cur: uint64(max), Max: uint64(max)})
}

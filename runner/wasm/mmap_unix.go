//go:build unix

package wasm

import "golang.org/x/sys/unix"

// mapMemory reserves n bytes of zeroed memory outside the Go heap, or
// returns nil.
func mapMemory(n uint64) []byte {
	if n > 1<<32 || n != uint64(int(n)) {
		return nil
	}
	b, err := unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON|unix.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return b
}

func unmapMemory(b []byte) { unix.Munmap(b) }

//go:build !linux && !darwin && !freebsd && !netbsd && !openbsd && !dragonfly

package state

// detectMemoryMB detects nothing here: the node advertises no memory
// unless --memory says.
func detectMemoryMB() (int64, error) { return 0, nil }

package compiler

import "testing"

// TestOutOfMemory: every way a worker's runtime says it could not
// allocate under its limit reads as the memory limit, and a crash of
// another kind does not.
func TestOutOfMemory(t *testing.T) {
	for stderr, want := range map[string]bool{
		"fatal error: runtime: out of memory\n\ngoroutine 1":                        true,
		"fatal error: runtime: cannot allocate memory\n\ngoroutine 7":               true,
		"==123==ERROR: ThreadSanitizer failed to allocate 0x1000 bytes":             true,
		"runtime/cgo: pthread_create failed: Resource temporarily unavailable":      true,
		"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1": false,
		"": false,
	} {
		if got := outOfMemory(stderr); got != want {
			t.Errorf("outOfMemory(%q) = %v, want %v", stderr, got, want)
		}
	}
}

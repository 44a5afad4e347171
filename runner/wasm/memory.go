package wasm

import (
	"sync/atomic"

	"github.com/tetratelabs/wazero/experimental"
)

// limitAllocator backs the linear memory of one execution and refuses to
// grow it past limit bytes, remembering that it did: wazero's own limit
// (RuntimeConfig.WithMemoryLimitPages) refuses silently and is per runtime,
// while this one is per execution and lets the result say "out of memory".
//
// Where it can (Unix), the memory is one anonymous mapping of the whole
// limit, reserved but not committed: it grows in place, without copying,
// pages cost only once touched, and it is not part of the Go heap. Else it
// is a []byte grown like wazero's default one.
type limitAllocator struct {
	limit   uint64
	refused atomic.Bool
}

// Allocate implements experimental.MemoryAllocator. max is the most the
// module's memory may ever have.
func (a *limitAllocator) Allocate(cap, max uint64) experimental.LinearMemory {
	m := &limitedMemory{a: a}
	if reserve := min(a.limit, max); reserve > 0 {
		m.mapped = mapMemory(reserve) // nil when it cannot
	}
	return m
}

// limitedMemory is a linear memory of at most the allocator's limit.
type limitedMemory struct {
	a      *limitAllocator
	mapped []byte // the whole reservation, when mapped
	buf    []byte
}

// Reallocate implements experimental.LinearMemory. Memory never shrinks,
// so the bytes past len(buf) were never written: they are zero, as grown
// memory must be.
func (m *limitedMemory) Reallocate(size uint64) []byte {
	if size > m.a.limit {
		m.a.refused.Store(true)
		return nil
	}
	if m.mapped != nil {
		if size > uint64(len(m.mapped)) {
			m.a.refused.Store(true)
			return nil
		}
		m.buf = m.mapped[:size:size]
		return m.buf
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	c := uint64(cap(m.buf)) + uint64(cap(m.buf))/4
	c = max(c, size)
	c = min(c, m.a.limit)
	buf := make([]byte, size, c)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

// Free implements experimental.LinearMemory.
func (m *limitedMemory) Free() {
	if m.mapped != nil {
		unmapMemory(m.mapped)
		m.mapped = nil
	}
	m.buf = nil
}

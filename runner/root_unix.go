//go:build unix

package runner

import "syscall"

// nonblock is added to every open inside a root: a FIFO opens at once
// (and a read finds no data) instead of waiting for a writer, and a
// terminal never becomes the agent's controlling terminal.
const nonblock = syscall.O_NONBLOCK | syscall.O_NOCTTY

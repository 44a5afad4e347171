//go:build !unix

package runner

// nonblock is added to every open inside a root; off Unix there are no
// FIFOs to block on.
const nonblock = 0

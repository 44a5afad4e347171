// Package testport picks loopback ports for tests that must name a port
// before a server listens on it (a NATS cluster's routes list every
// server's port up front).
//
// A port from listening on ":0" comes from Linux's ephemeral range
// (32768-60999), where the outgoing connections of the tests running
// beside may take it between its release and the server's bind. The ports
// here come from 10000-14999 instead, below that range and below the
// ranges other tests use (15000-19999 for static task ports, 20000-32000
// for a node's dynamic ones), at random, so that parallel packages rarely
// try the same one.
package testport

import (
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
)

// Lo and Hi bound the ports Free picks from.
const (
	Lo = 10000
	Hi = 14999
)

// Free returns a port of Lo-Hi that nothing listens on, on loopback or on
// every interface, now.
func Free(t testing.TB) int {
	t.Helper()
	for range 200 {
		p := Lo + rand.IntN(Hi-Lo+1)
		if bindable(p) {
			return p
		}
	}
	t.Fatalf("no free port in %d-%d", Lo, Hi)
	return 0
}

// Addr is Free's port on loopback: "127.0.0.1:port".
func Addr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Free(t)))
}

func bindable(port int) bool {
	for _, host := range []string{"127.0.0.1", ""} {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

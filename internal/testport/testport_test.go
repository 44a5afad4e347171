package testport

import (
	"net"
	"strconv"
	"testing"
)

// TestFreeSkipsTakenPorts: a port of the range some listener holds is
// never handed out, and what is handed out can be bound.
func TestFreeSkipsTakenPorts(t *testing.T) {
	var held []net.Listener
	taken := map[int]bool{}
	for p := Lo; p < Lo+2500; p++ {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		held = append(held, l)
		taken[p] = true
	}
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for range 50 {
		p := Free(t)
		if p < Lo || p > Hi || taken[p] {
			t.Fatalf("Free handed out %d (taken %v)", p, taken[p])
		}
		l, err := net.Listen("tcp", Addr(t))
		if err != nil {
			t.Fatalf("an address of Addr cannot be bound: %v", err)
		}
		l.Close()
	}
}

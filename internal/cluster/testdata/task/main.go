// Command task is what the cluster tests run with the exec driver inside
// an agent's container, which has no shell: it prints the job version it
// serves and waits for SIGTERM or SIGINT, then exits 0.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	fmt.Printf("serving %s on %s\n", os.Getenv("MUSTER_JOB_VERSION"), os.Getenv("MUSTER_NODE_ID"))
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
	s := <-c
	fmt.Printf("stopping on %s\n", s)
}

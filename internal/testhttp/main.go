// Command testhttp is the service the end-to-end tests run as a task: an
// HTTP server on $MUSTER_PORT_HTTP (or -listen) that answers every request
// with the status $STATUS (200 when unset), and, with $FAIL_AFTER set to a
// duration, answers 500 once that long has passed since it started. It
// prints one line when it listens.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:"+os.Getenv("MUSTER_PORT_HTTP"), "address to listen on")
	flag.Parse()
	status := 200
	if s := os.Getenv("STATUS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testhttp: STATUS:", err)
			os.Exit(2)
		}
		status = n
	}
	var failAt time.Time
	if s := os.Getenv("FAIL_AFTER"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			fmt.Fprintln(os.Stderr, "testhttp: FAIL_AFTER:", err)
			os.Exit(2)
		}
		failAt = time.Now().Add(d)
	}
	l, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testhttp:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s, answering %d\n", l.Addr(), status)
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := status
		if !failAt.IsZero() && time.Now().After(failAt) {
			code = http.StatusInternalServerError
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "%d %s\n", code, r.URL.Path)
	}))
	fmt.Fprintln(os.Stderr, "testhttp:", err)
	os.Exit(1)
}

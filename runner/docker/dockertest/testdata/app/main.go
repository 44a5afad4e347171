// Command app is the program of muster's docker test image (FROM scratch,
// ENTRYPOINT ["/app"], CMD ["hello"], also copied to /other). Its arguments
// are steps run in order:
//
//	hello              print "hello from app"
//	args ...           print "args=" and every argument (takes the rest)
//	env                print the environment, sorted, and "cwd=<dir>"
//	write PATH TEXT    write TEXT to PATH (creating its directory)
//	tryw PATH          try to write PATH, print "tryw PATH: ok" or ": error"
//	read PATH          print the content of PATH
//	stderr TEXT        print TEXT on stderr
//	exit N             exit with code N
//	sleep DUR          print "tick N" every 100ms for DUR; SIGTERM exits 143
//	ignoreterm DUR     like sleep, but SIGTERM is ignored
//	alloc MB           allocate and touch MB MiB of memory
//	dial ADDR          dial TCP ADDR (2s timeout), print "dial ok" or error
//	netifs             print "netifs=" and the interface names
//	symlink TARGET P   make P a symbolic link to TARGET (creating its directory)
//	mkdir PATH         make a directory and its parents
//	mkfifo PATH        make a FIFO
//	mksock PATH        leave a Unix socket file at PATH
//	mknod PATH MAJ MIN make a character device node
//	big PATH N         write N zero bytes to PATH
//	serve ADDR...      serve HTTP on every ADDR (environment variables
//	                   expanded; takes the rest), print "serving" once
//	                   listening, until SIGTERM (exit 143): /health answers
//	                   200, /status/N answers N
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	args := os.Args[1:]
	next := func() string {
		if len(args) == 0 {
			fmt.Fprintln(os.Stderr, "missing argument")
			os.Exit(2)
		}
		a := args[0]
		args = args[1:]
		return a
	}
	for len(args) > 0 {
		switch step := next(); step {
		case "hello":
			fmt.Println("hello from app")
		case "args":
			fmt.Println("args=" + strings.Join(os.Args, " "))
			args = nil
		case "env":
			env := os.Environ()
			sort.Strings(env)
			for _, e := range env {
				fmt.Println(e)
			}
			wd, _ := os.Getwd()
			fmt.Println("cwd=" + wd)
		case "write":
			p, text := next(), next()
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
		case "tryw":
			p := next()
			if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
				fmt.Printf("tryw %s: error\n", p)
			} else {
				fmt.Printf("tryw %s: ok\n", p)
			}
		case "read":
			b, err := os.ReadFile(next())
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(4)
			}
			fmt.Println(string(b))
		case "stderr":
			fmt.Fprintln(os.Stderr, next())
		case "exit":
			n, _ := strconv.Atoi(next())
			os.Exit(n)
		case "sleep", "ignoreterm":
			d, _ := time.ParseDuration(next())
			term := make(chan os.Signal, 1)
			if step == "sleep" {
				signal.Notify(term, syscall.SIGTERM)
			} else {
				signal.Ignore(syscall.SIGTERM)
			}
			tick := time.NewTicker(100 * time.Millisecond)
			end := time.After(d)
			for i := 1; ; i++ {
				select {
				case <-tick.C:
					fmt.Printf("tick %d\n", i)
					continue
				case <-term:
					fmt.Println("got SIGTERM")
					os.Exit(143)
				case <-end:
				}
				break
			}
			tick.Stop()
		case "alloc":
			mb, _ := strconv.Atoi(next())
			var keep [][]byte
			for i := 0; i < mb; i++ {
				b := make([]byte, 1<<20)
				for j := 0; j < len(b); j += 4096 {
					b[j] = 1
				}
				keep = append(keep, b)
			}
			fmt.Printf("allocated %d MiB\n", len(keep))
		case "dial":
			c, err := net.DialTimeout("tcp", next(), 2*time.Second)
			if err != nil {
				fmt.Println("dial error:", err)
			} else {
				c.Close()
				fmt.Println("dial ok")
			}
		case "netifs":
			ifs, err := net.Interfaces()
			if err != nil {
				fmt.Println("netifs error:", err)
				break
			}
			var names []string
			for _, i := range ifs {
				names = append(names, i.Name)
			}
			fmt.Println("netifs=" + strings.Join(names, ","))
		case "symlink":
			target, p := next(), next()
			os.MkdirAll(filepath.Dir(p), 0o755)
			check(os.Symlink(target, p))
		case "mkdir":
			check(os.MkdirAll(next(), 0o755))
		case "mkfifo":
			check(syscall.Mkfifo(next(), 0o644))
		case "mksock":
			l, err := net.Listen("unix", next())
			check(err)
			l.(*net.UnixListener).SetUnlinkOnClose(false)
			l.Close()
		case "mknod":
			p := next()
			major, _ := strconv.Atoi(next())
			minor, _ := strconv.Atoi(next())
			check(syscall.Mknod(p, syscall.S_IFCHR|0o644, major<<8|minor))
		case "big":
			p := next()
			n, _ := strconv.Atoi(next())
			check(os.WriteFile(p, make([]byte, n), 0o644))
		case "serve":
			serve(args)
			args = nil
		default:
			fmt.Fprintln(os.Stderr, "unknown step", step)
			os.Exit(2)
		}
	}
}

// check ends the program with code 4 when err is set.
func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(4)
	}
}

// serve serves HTTP on addrs until SIGTERM.
func serve(addrs []string) {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
	})
	for _, a := range addrs {
		l, err := net.Listen("tcp", os.ExpandEnv(a))
		check(err)
		go http.Serve(l, mux)
	}
	fmt.Println("serving")
	<-term
	fmt.Println("got SIGTERM")
	os.Exit(143)
}

// Command prog is the module the wasm driver's tests run (built with
// GOOS=wasip1 GOARCH=wasm). Its first argument picks what it does.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

var sink [][]byte

var counter uint64

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: prog hello|io|pwd|busy|sleep|hog|exit <code>")
		os.Exit(64)
	}
	switch os.Args[1] {
	case "hello":
		fmt.Println("hello")
	case "io":
		in, err := os.ReadFile("/in/input.txt")
		if err != nil {
			fmt.Fprintln(os.Stderr, "read:", err)
			os.Exit(1)
		}
		if err := os.MkdirAll("/out", 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "mkdir:", err)
			os.Exit(1)
		}
		x := fmt.Sprintf("%s|%s|%s", strings.TrimSpace(string(in)), os.Getenv("GREETING"), strings.Join(os.Args, " "))
		if err := os.WriteFile("/out/x", []byte(x), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(1)
		}
		env := os.Environ()
		sort.Strings(env)
		for _, kv := range env {
			fmt.Println(kv)
		}
		fmt.Fprintln(os.Stderr, "to stderr")
		os.Exit(3)
	case "pwd":
		wd, err := os.Getwd()
		fmt.Println(wd, err)
		b, err := os.ReadFile("data.txt")
		fmt.Println(strings.TrimSpace(string(b)), err)
		if _, err := os.ReadFile("/etc/passwd"); err == nil {
			fmt.Println("the node's /etc/passwd is visible")
		}
	case "busy":
		fmt.Println("spinning")
		for {
			counter++
		}
	case "sleep":
		fmt.Println("sleeping")
		time.Sleep(100 * time.Second)
	case "hog":
		for i := 0; ; i++ {
			b := make([]byte, 1<<20)
			for j := 0; j < len(b); j += 4096 {
				b[j] = 1
			}
			sink = append(sink, b)
			if i%16 == 0 {
				fmt.Println(i, "MiB")
			}
		}
	case "trap":
		var p *int
		_ = *p // a nil dereference panics: exit code 2
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(64)
	}
}

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
		fmt.Fprintln(os.Stderr, "usage: prog hello|io|pwd|busy|sleep|hog|escape|plant|trap")
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
	case "escape":
		escape()
	case "plant":
		plant()
	case "trap":
		var p *int
		_ = *p // a nil dereference panics: exit code 2
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", os.Args[1])
		os.Exit(64)
	}
}

// try prints "ok NAME" when err is nil, else "denied NAME: err".
func try(name string, err error) {
	if err != nil {
		fmt.Printf("denied %s: %v\n", name, err)
		return
	}
	fmt.Printf("ok %s\n", name)
}

// escape tries to reach files outside the root through the links the test
// planted in it (abs and mid: absolute; rel and midrel: relative; inside:
// to data.txt) and through links it makes itself, reading, writing,
// renaming, linking, listing and removing.
func escape() {
	read := func(p string) error { _, err := os.ReadFile(p); return err }
	write := func(p string) error { return os.WriteFile(p, []byte("pwned"), 0o644) }
	appendTo := func(p string) error {
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		_, err = f.Write([]byte("pwned"))
		f.Close()
		return err
	}
	try("read-abs", read("/abs"))
	try("read-rel", read("rel"))
	try("read-mid", read("/mid/secret"))
	try("read-midrel", read("midrel/secret"))
	try("stat-abs", func() error { _, err := os.Stat("/abs"); return err }())
	try("stat-midrel", func() error { _, err := os.Stat("midrel/secret"); return err }())
	try("write-abs", write("/abs"))
	try("write-rel", write("rel"))
	try("append-rel", appendTo("rel"))
	try("write-mid", write("/mid/new"))
	try("write-midrel", write("midrel/keep"))
	try("truncate-rel", os.Truncate("rel", 0))
	try("mkdir-midrel", os.Mkdir("midrel/newdir", 0o755))
	try("readdir-midrel", func() error { _, err := os.ReadDir("midrel"); return err }())
	try("rename-into-midrel", os.Rename("data2.txt", "midrel/moved"))
	try("rename-out-of-midrel", os.Rename("midrel/keep", "stolen"))
	try("link-from-midrel", os.Link("midrel/secret", "hard"))
	try("link-into-midrel", os.Link("data.txt", "midrel/hard"))
	try("remove-midrel", os.Remove("midrel/keep"))
	try("symlink-abs", os.Symlink("/tmp/x", "made-abs"))
	try("symlink-rel", os.Symlink("../../../../tmp/victim/keep", "made-rel"))
	try("symlink-rel-up", os.Symlink("../x", "made-rel-up"))
	try("symlink-up-inside", func() error { os.Mkdir("sub", 0o755); return os.Symlink("../data.txt", "sub/up") }())
	try("read-up-inside", read("sub/up"))
	try("read-inside", read("inside"))
	try("write-inside", os.WriteFile("inside", []byte("changed"), 0o644))
	try("symlink-in", os.Symlink("data.txt", "made-in"))
	try("read-made-in", read("made-in"))
	try("rename-in", os.Rename("data2.txt", "renamed.txt"))
	try("link-in", os.Link("data.txt", "hard-in"))
	try("readdir-root", func() error { _, err := os.ReadDir("/"); return err }())
}

// plant writes the outputs of the agent's boundary test: regular files, a
// link inside, a directory, a file over the node's limit, and tries to
// plant links out of the root, which the file system refuses.
func plant() {
	must := func(err error) {
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	must(os.MkdirAll("/out", 0o755))
	must(os.MkdirAll("/dir-as-file/sub", 0o755))
	must(os.WriteFile("/out/ok.txt", []byte("ok"), 0o644))
	must(os.Symlink("ok.txt", "/out/inside"))
	must(os.WriteFile("/out/huge", make([]byte, 100000), 0o644))
	must(os.WriteFile("/dir-as-file/a.txt", []byte("a"), 0o644))
	must(os.WriteFile("/dir-as-file/sub/b.txt", []byte("b"), 0o644))
	try("plant-abs", os.Symlink("/etc/passwd", "/out/abs"))
	try("plant-rel", os.Symlink("../../../../../../etc/passwd", "/out/rel"))
	try("plant-mid", os.Symlink("/etc", "/mid"))
}

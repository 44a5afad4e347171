package runner

import (
	"bufio"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/schema"
)

func TestProbeOutputText(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []string // writes
		want string
	}{
		{"empty", nil, ""},
		{"lines", []string{"one\n\n  two  \n", "three"}, "one | two | three"},
		{"crlf and tabs", []string{"a\r\nb\tc\r\n"}, "a | b c"},
		{"escapes", []string{"\x1b[31mred\x1b[0m \x07bell \u0085next"}, "?[31mred?[0m ?bell ?next"},
		{"invalid utf-8", []string{"ok \xff\xfe end"}, "ok \uFFFD end"},
		{"dropped", []string{strings.Repeat("x", MaxProbeOutput), "more"}, strings.Repeat("x", MaxProbeOutput) + " …"},
		{"cut inside a character", []string{strings.Repeat("x", MaxProbeOutput-1) + "é"}, strings.Repeat("x", MaxProbeOutput-1) + " …"},
		{"joined beyond the bound", []string{strings.Repeat("a\n", MaxProbeOutput/2)}, strings.Repeat("a | ", MaxProbeOutput/4)[:MaxProbeOutput-1] + " …"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var w headWriter
			for _, s := range c.in {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if got := w.text(); got != c.want {
				t.Errorf("text = %q\nwant   %q", got, c.want)
			}
		})
	}
}

// TestHTTPProbeStatusText: the message carries the standard text of the
// status, never the reason phrase the task sent, which may be anything.
func TestHTTPProbeStatusText(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	lines := []string{
		"HTTP/1.1 503 " + strings.Repeat("very long reason with \x1b[2J escapes ", 100) + "\r\n",
		"HTTP/1.1 299 made up\r\n",
	}
	go func() {
		for _, line := range lines {
			c, err := l.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			c.Write([]byte(line + "Content-Length: 0\r\nConnection: close\r\n\r\n"))
			c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	x := &liveExecution{ports: map[string]int{"http": port}}
	p := &schema.HTTPProbe{Port: "http", Path: "/"}
	base := "GET http://127.0.0.1:" + strconv.Itoa(port) + "/: "
	for _, want := range []struct {
		ok  bool
		msg string
	}{
		{false, base + "503 Service Unavailable (want 2xx or 3xx)"},
		{true, base + "299"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ok, msg := x.probeHTTP(ctx, p, 5*time.Second)
		cancel()
		if ok != want.ok || msg != want.msg {
			t.Errorf("probe = %v %q, want %v %q", ok, msg, want.ok, want.msg)
		}
	}
}

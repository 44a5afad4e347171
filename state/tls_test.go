package state

import (
	"bufio"
	"context"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/testcerts"
)

// TestEmbeddedListenerTLS checks that the embedded server's listener with
// TLS refuses plain clients and clients that do not trust its CA, serves
// those that do, and leaves the in-process connection working.
func TestEmbeddedListenerTLS(t *testing.T) {
	certs := testcerts.New(t)
	ctx := ctxT(t)
	s, err := Open(ctx, t.TempDir(), Options{Listen: "127.0.0.1:0", Token: "s3cret", TLS: certs.ServerConfig(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.PutNode(ctx, Node{ID: "n1"}); err != nil {
		t.Fatalf("in-process write: %v", err)
	}
	clientURL := s.ClientURL()
	if !strings.HasPrefix(clientURL, "tls://") {
		t.Fatalf("ClientURL = %q, want the tls:// scheme", clientURL)
	}
	u, err := url.Parse(clientURL)
	if err != nil {
		t.Fatal(err)
	}
	plainURL := "nats://" + u.Host
	tests := []struct {
		name string
		url  string
		opts []nats.Option
		ok   bool
	}{
		{"trusting the CA", clientURL, []nats.Option{nats.Token("s3cret"), nats.Secure(certs.ClientConfig())}, true},
		{"by its CA file", clientURL, []nats.Option{nats.Token("s3cret"), nats.RootCAs(certs.CA)}, true},
		{"not trusting the CA", clientURL, []nats.Option{nats.Token("s3cret")}, false},
		{"nats:// without the CA", plainURL, []nats.Option{nats.Token("s3cret")}, false},
		{"trusting the CA without the token", clientURL, []nats.Option{nats.Secure(certs.ClientConfig())}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Connect(ctx, tc.url, append(tc.opts, nats.MaxReconnects(0), nats.Timeout(5*time.Second))...)
			if !tc.ok {
				if err == nil {
					c.Close()
					t.Fatal("connected")
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Node(ctx, "n1"); err != nil {
				t.Errorf("read over TLS: %v", err)
			}
		})
	}
	t.Run("plain protocol", func(t *testing.T) {
		if plainPong(t, ctx, u.Host) {
			t.Error("a plain client got PONG from the TLS listener")
		}
	})
}

// plainPong speaks the NATS protocol without TLS to addr and says whether
// the server answered its PING.
func plainPong(t *testing.T, ctx context.Context, addr string) bool {
	t.Helper()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	info, err := r.ReadString('\n')
	if err != nil || !strings.Contains(info, `"tls_required":true`) {
		t.Errorf("INFO %q (%v): want tls_required", info, err)
	}
	if _, err := conn.Write([]byte("CONNECT {\"auth_token\":\"s3cret\",\"verbose\":false}\r\nPING\r\n")); err != nil {
		return false
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if strings.HasPrefix(line, "PONG") {
			return true
		}
	}
}

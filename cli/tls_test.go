package cli

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/internal/testcerts"
	"github.com/muster-dev/muster/internal/wait"
)

// apiTLSRE finds the API address a control plane serving TLS prints.
const apiTLSRE = `API on https://(\S+)`

// TestAPIClientTLS checks how a client reaches an API over TLS, and that
// each way of getting it wrong says what to do.
func TestAPIClientTLS(t *testing.T) {
	certs, other := testcerts.New(t), testcerts.New(t)
	info := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"api_version": "v1"}`))
	})
	secure := httptest.NewUnstartedServer(info)
	secure.TLS = certs.ServerConfig(t)
	secure.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshakes refused
	secure.StartTLS()
	defer secure.Close()
	plain := httptest.NewServer(info)
	defer plain.Close()
	host, plainHost := strings.TrimPrefix(secure.URL, "https://"), strings.TrimPrefix(plain.URL, "http://")
	tests := []struct {
		name, addr, ca string
		want           string // in the error; "" for none
	}{
		{"https with the CA", secure.URL, certs.CA, ""},
		{"host:port with the CA", host, certs.CA, ""},
		{"localhost with the CA", strings.Replace(secure.URL, "127.0.0.1", "localhost", 1), certs.CA, ""},
		{"no CA", secure.URL, "", "not trusted: give --tls-ca or MUSTER_TLS_CA"},
		{"another CA", host, other.CA, "not trusted by --tls-ca"},
		{"http to https", "http://" + host, "", "serves https: give --tls-ca or MUSTER_TLS_CA"},
		{"host:port without the CA", host, "", "serves https"},
		{"https to http", plainHost, certs.CA, "does not serve TLS"},
		{"plain with the CA and a scheme", plain.URL, certs.CA, ""},
		{"plain without a CA", plainHost, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			p, err := dial(ctx, addr, tc.ca, "--addr", "")
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				p.Close()
				return
			}
			if err == nil {
				p.Close()
				t.Fatalf("reached %s", addr)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want %q in it", err, tc.want)
			}
		})
	}
}

// TestBeyondLoopback checks which listeners a control plane refuses: beyond
// loopback it needs both TLS and a token.
func TestBeyondLoopback(t *testing.T) {
	tests := []struct {
		flag, addr, token string
		tls               bool
		want              []string // in the error; none: accepted
	}{
		{"--listen", "127.0.0.1:4747", "", false, nil},
		{"--listen", "localhost:4747", "", false, nil},
		{"--listen", "[::1]:4747", "", false, nil},
		{"--nats-listen", "", "", false, nil},
		{"--listen", "0.0.0.0:4747", "t", true, nil},
		{"--listen", "0.0.0.0:4747", "", false, []string{"--listen 0.0.0.0:4747 reaches beyond loopback", "MUSTER_TOKEN", "--tls-cert and --tls-key"}},
		{"--listen", "10.0.0.5:4747", "t", false, []string{"--tls-cert and --tls-key"}},
		{"--nats-listen", ":4222", "", true, []string{"--nats-listen :4222", "MUSTER_TOKEN"}},
	}
	for _, tc := range tests {
		err := beyondLoopback(tc.flag, tc.addr, tc.token, tc.tls)
		switch {
		case len(tc.want) == 0 && err != nil:
			t.Errorf("%s %s (token %q, TLS %v): %v", tc.flag, tc.addr, tc.token, tc.tls, err)
		case len(tc.want) > 0 && err == nil:
			t.Errorf("%s %s (token %q, TLS %v): accepted", tc.flag, tc.addr, tc.token, tc.tls)
		}
		for _, w := range tc.want {
			if err != nil && !strings.Contains(err.Error(), w) {
				t.Errorf("%s %s: %q, want %q in it", tc.flag, tc.addr, err, w)
			}
		}
		if len(tc.want) > 0 && err != nil && tc.token != "" && strings.Contains(err.Error(), "MUSTER_TOKEN") {
			t.Errorf("%s %s with a token: %q asks for one", tc.flag, tc.addr, err)
		}
	}
}

// TestServeTLSFlags checks that a certificate and its key go together and
// must load.
func TestServeTLSFlags(t *testing.T) {
	certs := testcerts.New(t)
	tests := []struct {
		cert, key string
		want      string
	}{
		{"", "", ""},
		{certs.Cert, certs.Key, ""},
		{certs.Cert, "", "go together"},
		{"", certs.Key, "go together"},
		{certs.Key, certs.Cert, "--tls-cert"},
		{certs.Cert, certs.Cert + ".missing", "no such file"},
	}
	for _, tc := range tests {
		cfg, err := serverTLS(tc.cert, tc.key)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%q, %q: %v", tc.cert, tc.key, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q, %q: %v, want %q", tc.cert, tc.key, err, tc.want)
		case tc.want == "" && (cfg == nil) != (tc.cert == ""):
			t.Errorf("%q, %q: config %v", tc.cert, tc.key, cfg)
		}
	}
	if _, err := clientTLS(certs.Key); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("a key as the CA: %v", err)
	}
}

// TestTLSDevAndAgent runs `muster dev` over TLS and an agent that
// verifies it (its API and its NATS server) and runs a daemon job's
// execution; clients reach it with the CA, and are told what to do
// without it.
func TestTLSDevAndAgent(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	certs := testcerts.New(t)
	c := newCLI(t, "MUSTER_STATE_DIR=.muster")
	dev := c.start(apiTLSRE, "dev", "--listen", "127.0.0.1:0", "--tls-cert", certs.Cert, "--tls-key", certs.Key)
	addr := dev.waitFor(apiTLSRE)
	dev.waitFor(`muster agent --server https://\S+ --tls-ca CA.pem`)

	// The dev record says https; without a CA the certificate is not
	// trusted, with it every way of giving the address works.
	clearly := "the control plane's certificate is not trusted: give --tls-ca or MUSTER_TLS_CA"
	for _, args := range [][]string{{"status"}, {"status", "--addr", "https://" + addr}} {
		if r := c.run(args...); r.code != 1 || !strings.Contains(r.stderr, clearly) {
			t.Errorf("without the CA: %v", r)
		}
	}
	// Without a CA, host:port means http.
	for _, a := range []string{addr, "http://" + addr} {
		if r := c.run("status", "--addr", a); r.code != 1 || !strings.Contains(r.stderr, "serves https: give --tls-ca or MUSTER_TLS_CA") {
			t.Errorf("http to the TLS port: %v", r)
		}
	}
	c.ok("status", "--tls-ca", certs.CA)
	c.ok("status", "--addr", addr, "--tls-ca", certs.CA)
	c.ok("status", "--addr", "https://"+addr, "--tls-ca", certs.CA)
	resp, err := http.Get("http://" + addr + "/v1/info")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain http to the TLS port: %s", resp.Status)
		}
	}

	// An agent without the CA does not join; with it, it joins over TLS
	// (its NATS URL is tls://) and runs the daemon's execution.
	cfg := c.write("a.yaml", "id: node-a\n")
	if r := c.run("agent", "--server", "https://"+addr, "--node-config", cfg, "--dir", "agent-x"); r.code == 0 || !strings.Contains(r.stderr, clearly) {
		t.Errorf("agent without the CA: %v", r)
	}
	agent := c.start(`joined`, "agent", "--server", addr, "--tls-ca", certs.CA, "--node-config", cfg, "--dir", "agent-a", "--heartbeat", "500ms")
	agent.waitFor(`NATS tls://127\.0\.0\.1:\d+`)
	tc := &musterCLI{t: t, bin: c.bin, dir: c.dir, env: "MUSTER_TLS_CA=" + certs.CA}
	file := c.write("d.yaml", `name: d
type: daemon
task: {engine: exec, cmd: [sleep, "300"]}
rollout: {health_check: {min_healthy_time: 100ms, interval: 50ms}}
`)
	tc.ok("apply", "--state-dir", ".muster", "--auto-approve", file)
	wait.For(t, 30*time.Second, "the daemon running on node-a", func() (string, bool) {
		r := tc.ok("executions", "--state-dir", ".muster", "--all", "-o", "json", "d")
		for _, x := range decode[[]execJSON](t, r) {
			if x.NodeID == "node-a" && x.Status.ComputeState == "running" {
				return r.stdout, true
			}
		}
		return r.stdout, false
	})
}

// TestTLSServerBeyondLoopback checks that `muster server` beyond loopback
// is refused without TLS (even with a token) and without a token (even
// with TLS), and serves with both, to clients that present the token and
// trust the CA.
func TestTLSServerBeyondLoopback(t *testing.T) {
	skipReliability(t)
	t.Parallel()
	certs := testcerts.New(t)
	tlsArgs := []string{"--tls-cert", certs.Cert, "--tls-key", certs.Key}
	tests := []struct {
		name, env string
		args      []string
		want      string
	}{
		{"token, no TLS", "MUSTER_TOKEN=s3cret", nil, "give --tls-cert and --tls-key"},
		{"TLS, no token", "", tlsArgs, "set MUSTER_TOKEN"},
		{"neither", "", nil, "set MUSTER_TOKEN to a secret that clients and agents must present, and give --tls-cert"},
		{"NATS beyond loopback", "MUSTER_TOKEN=s3cret", []string{"--listen", "127.0.0.1:0", "--nats-listen", "0.0.0.0:0"}, "--nats-listen 0.0.0.0:0 reaches beyond loopback: give --tls-cert"},
	}
	for _, tc := range tests {
		c := newCLI(t, tc.env)
		args := append([]string{"server", "--state-dir", ".muster", "--listen", "0.0.0.0:0"}, tc.args...)
		if r := c.run(args...); r.code != 1 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, r, tc.want)
		}
	}
	c := newCLI(t, "MUSTER_TOKEN=s3cret")
	srv := c.start(apiTLSRE, append([]string{"server", "--state-dir", ".muster", "--listen", "0.0.0.0:0", "--tls-ca", certs.CA}, tlsArgs...)...)
	addr := srv.waitFor(apiTLSRE)
	_, port, ok := strings.Cut(addr[strings.LastIndex(addr, "]")+1:], ":")
	if !ok {
		t.Fatalf("API address %q", addr)
	}
	c.ok("status", "--addr", "127.0.0.1:"+port, "--tls-ca", certs.CA)
	// The server recorded its CA: commands on its state directory trust it.
	c.ok("status", "--state-dir", ".muster")
	anon := newCLI(t, "MUSTER_STATE_DIR=.muster")
	anon.dir = c.dir
	if r := anon.run("status", "--addr", "127.0.0.1:"+port, "--tls-ca", certs.CA); r.code != 1 || !strings.Contains(r.stderr, "MUSTER_TOKEN") {
		t.Errorf("status without the token: %v", r)
	}
}

// TestReachableNATSKeepsTLS checks that the NATS URLs an agent rewrites
// keep their tls:// scheme, also when the API was reached over https.
func TestReachableNATSKeepsTLS(t *testing.T) {
	tests := []struct{ urls, server, want string }{
		{"tls://0.0.0.0:4222", "https://10.0.0.5:4747", "tls://10.0.0.5:4222"},
		{"tls://0.0.0.0:4222", "10.0.0.5:4747", "tls://10.0.0.5:4222"},
		{"tls://[::]:4222,tls://n2:4222", "cp1:4747", "tls://cp1:4222,tls://n2:4222"},
		{"tls://127.0.0.1:4222", "https://localhost:4747", "tls://127.0.0.1:4222"},
	}
	for _, tc := range tests {
		got, err := reachableNATS(tc.urls, tc.server)
		if err != nil || got != tc.want {
			t.Errorf("reachableNATS(%q, %q) = %q, %v; want %q", tc.urls, tc.server, got, err, tc.want)
		}
	}
}

// TestLocalAddr checks the address a control plane records for the
// commands on its machine.
func TestLocalAddr(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"127.0.0.1:4747", "127.0.0.1:4747"},
		{"[::]:4747", "127.0.0.1:4747"},
		{"0.0.0.0:4747", "127.0.0.1:4747"},
		{":4747", "127.0.0.1:4747"},
		{"10.0.0.5:4747", "10.0.0.5:4747"},
	}
	for _, tc := range tests {
		if got := localAddr(tc.addr); got != tc.want {
			t.Errorf("localAddr(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

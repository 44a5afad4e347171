package state

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/muster-dev/muster/internal/testport"
	"github.com/muster-dev/muster/internal/wait"
)

const natsServerModule = "github.com/nats-io/nats-server/v2"

// TestExternal runs the store suite through Connect against a real
// nats-server process on loopback, built from the module cache.
func TestExternal(t *testing.T) {
	bin := natsServerBinary(t)
	url := startNATSServer(t, bin)
	ext := backend{
		name: "external",
		fresh: func(t *testing.T, _ bool) *Store {
			s := connectT(t, url)
			s.prefix = testPrefix()
			return s
		},
		connect: func(t *testing.T, primary *Store) *Store {
			s := connectT(t, url)
			s.prefix = primary.prefix
			return s
		},
	}
	runSuite(t, ext)

	t.Run("ClientURL", func(t *testing.T) {
		if got := connectT(t, url).ClientURL(); got != url {
			t.Errorf("ClientURL = %q, want %q", got, url)
		}
	})
}

func TestConnectErrors(t *testing.T) {
	ctx := context.Background()
	// Nothing listens on a port that was just free.
	if _, err := Connect(ctx, "nats://"+testport.Addr(t), natsTimeout(time.Second)); err == nil {
		t.Error("Connect to a closed port succeeded")
	}
	// A server without JetStream is refused with a clear message.
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("plain nats-server did not start")
	}
	if _, err := Connect(ctx, srv.ClientURL()); err == nil || !strings.Contains(err.Error(), "-js") {
		t.Errorf("Connect to a server without JetStream = %v, want advice to enable it", err)
	} else {
		t.Log(err)
	}
}

// natsServerBinary builds nats-server from the module cache once per
// version and caches it; it skips the test if that cannot be done.
func natsServerBinary(t *testing.T) string {
	t.Helper()
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == natsServerModule {
				version = d.Version
			}
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	bin := filepath.Join(cache, "muster-test", "nats-server-"+version)
	if version != "unknown" {
		if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
			return bin
		}
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("external NATS test skipped: no go command to build nats-server: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Skipf("external NATS test skipped: %v", err)
	}
	tmp := bin + fmt.Sprintf(".%d.tmp", os.Getpid())
	cmd := exec.Command(goBin, "build", "-o", tmp, natsServerModule)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("external NATS test skipped: go build %s failed: %v\n%s", natsServerModule, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Skipf("external NATS test skipped: %v", err)
	}
	return bin
}

// startNATSServer runs bin with JetStream on a free loopback port until the
// test ends and returns its URL.
func startNATSServer(t *testing.T, bin string) string {
	t.Helper()
	addr := testport.Addr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", port)
	logf, err := os.Create(filepath.Join(t.TempDir(), "nats-server.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		// A server that does not stop within 5s of SIGINT is killed.
		kill := time.AfterFunc(5*time.Second, func() { cmd.Process.Kill() })
		cmd.Wait()
		kill.Stop()
		logf.Close()
	})
	url := "nats://" + addr
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("nats-server at %s logged:\n%s", url, log)
		}
	})
	wait.For(t, 15*time.Second, "nats-server at "+url+" to answer", func() (error, bool) {
		s, err := Connect(context.Background(), url, natsTimeout(time.Second))
		if err == nil {
			s.Close()
		}
		return err, err == nil
	})
	return url
}

// testPrefix is a bucket name prefix of the test's own, so that each test
// starts with empty buckets on the shared server. Deleting the streams
// between tests is no substitute: with nats-server v2.15.2, a Get right after
// re-creating a deleted bucket returned the deleted bucket's value in about
// half of 300 tries.
func testPrefix() string {
	return fmt.Sprintf("t%d_", prefixSeq.Add(1))
}

var prefixSeq atomic.Int64

func natsTimeout(d time.Duration) nats.Option { return nats.Timeout(d) }

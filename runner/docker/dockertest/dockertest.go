// Package dockertest gives tests a Docker Engine and an image to run on it,
// built from scratch with a small static Go program, since muster's machines
// have an engine but no registry to pull from.
//
// Tests call Client, which skips the test when no engine answers, unless
// MUSTER_REQUIRE_DOCKER=1 is set: then it fails, so that CI on a machine with
// an engine cannot silently skip the docker tests.
package dockertest

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
)

// RequireEnv names the environment variable that turns a missing engine
// from a skip into a failure when set to "1".
const RequireEnv = "MUSTER_REQUIRE_DOCKER"

// Required reports whether RequireEnv asks for an engine.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Ping returns nil when the engine of the environment answers, and the
// client's host with the reason otherwise.
func Ping(ctx context.Context) (*client.Client, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		host := cli.DaemonHost()
		cli.Close()
		return nil, fmt.Errorf("no engine answers at %s: %w", host, err)
	}
	return cli, nil
}

// Client returns a client of the environment's engine, closed when the test
// ends. Without an engine it skips t ("docker: no engine answers at ...")
// or, when RequireEnv is "1", fails it.
func Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := Ping(context.Background())
	if err != nil {
		if Required() {
			t.Fatalf("docker: %v (%s=1 requires an engine)", err, RequireEnv)
		}
		t.Skipf("docker: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

//go:embed testdata/app/main.go
var appSource []byte

// Dockerfile is the recipe of the app image.
const dockerfile = `FROM scratch
COPY app /app
COPY app /other
ENTRYPOINT ["/app"]
CMD ["hello"]
`

var (
	imageMu sync.Mutex
	built   = map[string]bool{}
)

// AppImage returns the tag of the test image ("muster-test/app:<hash>"),
// building it if the engine does not have it yet. The image is FROM
// scratch and holds the program of testdata/app twice, as /app (the
// entrypoint, with cmd ["hello"]) and /other; its package documentation
// lists the steps it takes as arguments.
func AppImage(t testing.TB, cli *client.Client) string {
	t.Helper()
	tag, err := appImage(cli)
	if err != nil {
		t.Fatalf("docker: test image: %v", err)
	}
	return tag
}

func appImage(cli *client.Client) (string, error) {
	h := sha256.New()
	h.Write(appSource)
	h.Write([]byte(dockerfile + runtime.Version() + runtime.GOARCH))
	tag := "muster-test/app:" + hex.EncodeToString(h.Sum(nil))[:12]

	imageMu.Lock()
	defer imageMu.Unlock()
	if built[tag] {
		return tag, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := cli.ImageInspect(ctx, tag); err == nil {
		built[tag] = true
		return tag, nil
	}
	bin, err := buildApp()
	if err != nil {
		return "", err
	}
	var tctx bytes.Buffer
	tw := tar.NewWriter(&tctx)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"app", 0o755, bin}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: time.Unix(0, 0)})
		tw.Write(f.data)
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	res, err := cli.ImageBuild(ctx, &tctx, client.ImageBuildOptions{
		Tags: []string{tag}, Remove: true, ForceRemove: true, Version: build.BuilderV1,
		Labels: map[string]string{"muster.test": "app"},
	})
	if err != nil {
		return "", fmt.Errorf("build %s: %w", tag, err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	if err := readBuild(res.Body, &out); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", tag, err, out.String())
	}
	if _, err := cli.ImageInspect(ctx, tag); err != nil {
		return "", fmt.Errorf("build %s: no image after the build: %w\n%s", tag, err, out.String())
	}
	built[tag] = true
	return tag, nil
}

// buildApp compiles the program as a static linux binary.
func buildApp() ([]byte, error) {
	dir, err := os.MkdirTemp("", "muster-dockertest-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.go"), appSource, 0o644); err != nil {
		return nil, err
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		goBin = "go"
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", "app", "main.go")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH, "GOWORK=off", "GO111MODULE=on")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build of the test app: %w\n%s", err, strings.TrimSpace(string(out)))
	}
	return os.ReadFile(filepath.Join(dir, "app"))
}

// readBuild reads the engine's build stream to its end, keeping the text in
// out, and returns the error the stream reports, if any.
func readBuild(r io.Reader, out *bytes.Buffer) error {
	dec := json.NewDecoder(r)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		out.WriteString(m.Stream + m.Status)
		if m.Error != nil {
			return m.Error
		}
	}
}

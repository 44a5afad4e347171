package cluster

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// dockerfile is the recipe of the image every container of a cluster runs:
// FROM scratch (the engine has no registry to pull from), with the three
// static binaries and the directories they write to.
const dockerfile = `FROM scratch
COPY bin/ /bin/
COPY tmp/ /tmp/
ENV PATH=/bin TMPDIR=/tmp
WORKDIR /tmp
`

// binaries are what the image holds, by their name in /bin, with the Go
// package each is built from (relative to the module root, or a module
// path).
var binaries = []struct{ name, pkg string }{
	{"muster", "./cmd/muster"},
	{"nats-server", "github.com/nats-io/nats-server/v2"},
	{"task", "./internal/cluster/testdata/task"},
}

// Image is the built image of a test process, shared by its clusters.
type Image struct {
	// Tag names the image in the engine: "muster-cluster:<hash>" of its
	// binaries, so a tree whose binaries did not change reuses it.
	Tag string
	// Muster is the path of the muster binary on the host, the same one the
	// containers run, for the tests to drive the cluster with.
	Muster string
}

var (
	imageOnce sync.Once
	image     Image
	imageErr  error
	binDir    string
)

// BuildImage builds the binaries and the image once per test process and
// returns it; it fails t when either cannot be built.
func BuildImage(t testing.TB) Image {
	t.Helper()
	imageOnce.Do(func() { image, imageErr = buildImage() })
	if imageErr != nil {
		t.Fatalf("cluster image: %v", imageErr)
	}
	return image
}

// Cleanup removes the binaries BuildImage built (the image stays in the
// engine for the next run). TestMain calls it after the tests.
func Cleanup() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

func buildImage() (Image, error) {
	root, err := moduleRoot()
	if err != nil {
		return Image{}, err
	}
	binDir, err = os.MkdirTemp("", "muster-cluster-")
	if err != nil {
		return Image{}, err
	}
	ctxDir := filepath.Join(binDir, "context")
	for _, d := range []string{"bin", "tmp"} {
		if err := os.MkdirAll(filepath.Join(ctxDir, d), 0o755); err != nil {
			return Image{}, err
		}
	}
	if err := os.Chmod(filepath.Join(ctxDir, "tmp"), 0o1777); err != nil {
		return Image{}, err
	}
	h := sha256.New()
	io.WriteString(h, dockerfile)
	for _, b := range binaries {
		out := filepath.Join(ctxDir, "bin", b.name)
		if err := goBuild(root, out, b.pkg); err != nil {
			return Image{}, err
		}
		if err := hashFile(h, out); err != nil {
			return Image{}, err
		}
	}
	img := Image{
		Tag:    "muster-cluster:" + hex.EncodeToString(h.Sum(nil))[:16],
		Muster: filepath.Join(ctxDir, "bin", "muster"),
	}
	if runtime.GOOS != "linux" {
		// The containers run linux; the host needs its own build.
		img.Muster = filepath.Join(binDir, "muster")
		if err := hostBuild(root, img.Muster, "./cmd/muster"); err != nil {
			return Image{}, err
		}
	}
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return Image{}, err
	}
	if _, err := docker("image", "inspect", "--format", "{{.Id}}", img.Tag); err == nil {
		return img, nil
	}
	if _, err := dockerEnv([]string{"DOCKER_BUILDKIT=0"}, "build", "--quiet", "--label", "muster.test=cluster", "-t", img.Tag, ctxDir); err != nil {
		return Image{}, fmt.Errorf("docker build: %w", err)
	}
	return img, nil
}

// moduleRoot is the directory of muster's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command(goTool(), "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the muster module (go env GOMOD = %q)", mod)
	}
	return filepath.Dir(mod), nil
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	g := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(g); err == nil {
		return g
	}
	return "go"
}

// goBuild builds pkg as a static linux binary at out, for the host's
// architecture (on linux, the host runs the same muster binary).
func goBuild(root, out, pkg string) error {
	return build(root, out, pkg, "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
}

// hostBuild builds pkg for the host at out.
func hostBuild(root, out, pkg string) error { return build(root, out, pkg) }

func build(root, out, pkg string, env ...string) error {
	cmd := exec.Command(goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func hashFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// The peers, installed with go install. cue's version is the one go.mod
// requires (the library muster's CUE frontend links), read at run time.
const (
	cuePkg         = "cuelang.org/go/cmd/cue"
	cueModule      = "cuelang.org/go"
	cueFallback    = "v0.17.1"
	kubeconformPkg = "github.com/yannh/kubeconform/cmd/kubeconform"
	kubeconformVer = "latest"
)

// peerSet holds the installed peers; an empty path means the peer is
// missing, and why is in the matching error.
type peerSet struct {
	cue, kubeconform       string
	cueErr, kubeconformErr string
	cueVer, kubeconformVer string
}

func (p peerSet) tools() []Tool {
	return []Tool{
		{Name: "cue", Version: p.cueVer, Path: p.cue, Error: p.cueErr},
		{Name: "kubeconform", Version: p.kubeconformVer, Path: p.kubeconform, Error: p.kubeconformErr},
	}
}

// installPeers installs cue and kubeconform into gobin (both at once; the
// first build of cue takes a minute). A peer that fails to install is
// reported and left out; the benchmark goes on without it.
func installPeers(ctx context.Context, root, gobin string, log *logger) peerSet {
	var p peerSet
	if err := os.MkdirAll(gobin, 0o755); err != nil {
		p.cueErr, p.kubeconformErr = err.Error(), err.Error()
		return p
	}
	cueVer := cueFallback
	if out, err := goCmd(ctx, root, nil, "list", "-m", "-f", "{{.Version}}", cueModule); err == nil && strings.HasPrefix(strings.TrimSpace(out), "v") {
		cueVer = strings.TrimSpace(out)
	}
	var wg sync.WaitGroup
	install := func(pkg, ver, name string, path, errp, verp *string) {
		defer wg.Done()
		bin := filepath.Join(gobin, name)
		if _, err := os.Stat(bin); err != nil || ver == "latest" {
			log.printf("go install %s@%s", pkg, ver)
			env := []string{"GOBIN=" + gobin}
			if out, err := goCmd(ctx, root, env, "install", pkg+"@"+ver); err != nil {
				*errp = fmt.Sprintf("go install %s@%s failed: %v: %s", pkg, ver, err, lastLines(out, 5))
				log.printf("%s: %s; continuing without it", name, *errp)
				return
			}
		} else {
			log.printf("reusing %s", bin)
		}
		*path = bin
		*verp = binVersion(ctx, bin)
	}
	wg.Add(2)
	go install(cuePkg, cueVer, "cue", &p.cue, &p.cueErr, &p.cueVer)
	go install(kubeconformPkg, kubeconformVer, "kubeconform", &p.kubeconform, &p.kubeconformErr, &p.kubeconformVer)
	wg.Wait()
	return p
}

// binVersion reads the main module version recorded in a Go binary.
func binVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, "go", "version", "-m", bin).Output()
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "mod" {
			return f[2]
		}
	}
	return "unknown"
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run bench/compile inside the muster module (go run ./bench/compile)")
	}
	return filepath.Dir(mod), nil
}

func gitDescribe(root string) string {
	cmd := exec.Command("git", "describe", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func machineInfo() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// loadAvg returns the 1, 5 and 15 minute load averages, or "" off Linux.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// busy says whether other work shared the machine: a one-minute load
// average above half the cores before the runs, or above the cores after
// them (the benchmark itself keeps every core busy while it runs).
func busy(before, after string, cpus int) string {
	load1 := func(s string) float64 {
		f := strings.Fields(s)
		if len(f) == 0 {
			return 0
		}
		v, _ := strconv.ParseFloat(f[0], 64)
		return v
	}
	b, a := load1(before), load1(after)
	switch {
	case b > float64(cpus)/2:
		return fmt.Sprintf("yes: load average %.2f on %d cores before the runs", b, cpus)
	case a > float64(cpus)*1.5:
		return fmt.Sprintf("probably: load average %.2f on %d cores after the runs", a, cpus)
	}
	return "no"
}

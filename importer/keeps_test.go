package importer

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/schema"
)

// source reads the source file of a golden case.
func source(t *testing.T, name string) (string, []byte) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range txtar.Parse(b).Files {
		if !strings.HasPrefix(f.Name, "out/") && f.Name != "name" {
			return f.Name, f.Data
		}
	}
	t.Fatalf("%s: no source", name)
	return "", nil
}

// imported imports the golden case name and returns its one job.
func imported(t *testing.T, name string) *schema.Job {
	t.Helper()
	file, src := source(t, name)
	res := Import(systemOf(t, name), file, src, Options{Name: "x"})
	if res.Diags.HasErrors() || len(res.Jobs) != 1 {
		t.Fatalf("%s: %v", name, res.Diags)
	}
	return res.Jobs[0].Spec
}

// TestImportKeeps: what a job runs and where survives the import: image,
// command, environment, resources, selector and rollout, read from the
// validated job rather than from its text.
func TestImportKeeps(t *testing.T) {
	b := imported(t, "bacalhau-daemon-inputs")
	if b.Task.Image != "ghcr.io/example/shipper:2.4" || !slices.Equal(b.Task.Entrypoint, []string{"/usr/bin/shipper"}) ||
		!slices.Equal(b.Task.Cmd, []string{"--config", "/etc/shipper/config.yaml"}) {
		t.Errorf("bacalhau: image and command %q %q %q", b.Task.Image, b.Task.Entrypoint, b.Task.Cmd)
	}
	if !maps.Equal(b.Task.Env, map[string]string{"LOG_LEVEL": "debug", "SHIPPER_TARGET": "https://logs.example.com"}) {
		t.Errorf("bacalhau: env %v", b.Task.Env)
	}
	if b.Task.Resources.CPUs != 0.5 || b.Task.Resources.Memory.String() != "512M" {
		t.Errorf("bacalhau: resources %+v", b.Task.Resources)
	}
	if !slices.Equal(b.Selector.MatchExpressions, []string{"!hardware.gpu", "Architecture=arm64", "region in (eu-west-1,eu-west-2)"}) {
		t.Errorf("bacalhau: selector %q", b.Selector.MatchExpressions)
	}

	e := imported(t, "expanso-job")
	if e.Task.Image != "registry.example.com/edge-api:3.1.0" || !slices.Equal(e.Task.Cmd, []string{"--listen=:8080"}) ||
		e.Task.Env["LOG_FORMAT"] != "json" || e.Task.Resources.CPUs != 1 || e.Task.Resources.Memory.String() != "1G" {
		t.Errorf("expanso: task %+v", e.Task)
	}
	if e.Selector.MatchLabels["role"] != "edge" || len(e.Selector.MatchExpressions) != 2 {
		t.Errorf("expanso: selector %+v", e.Selector)
	}
	r := e.Rollout
	if r.Strategy != schema.Canary || r.CanaryCount != 1 || !r.AutoPromote || r.MaxParallel != 2 || r.MaxFailedNodes != 2 ||
		r.MaxFailedNodesPercent != 20 || r.HealthCheck.Interval.String() != "10s" || r.HealthCheck.MaxErrorRate != 0.05 {
		t.Errorf("expanso: rollout %+v", r)
	}

	p := imported(t, "parcel-report")
	if p.Task.Image != "oasislabs/acme-network-demo" || len(p.Task.Cmd) != 4 || p.Task.Env["REPORT_FORMAT"] != "text" ||
		p.Task.Resources.CPUs != 2 || p.Task.Resources.Memory.String() != "2G" || p.RestartPolicy != schema.Never {
		t.Errorf("parcel: %+v", p.Task)
	}
	if len(p.Task.Inputs) != 1 || p.Task.Inputs[0].Target != "/parcel/data/in/portfolio.json" ||
		len(p.Task.Outputs) != 1 || p.Task.Outputs[0].Path != "/parcel/data/out/report.txt" {
		t.Errorf("parcel: documents %+v %+v", p.Task.Inputs, p.Task.Outputs)
	}
}

package main

import (
	"strings"
	"testing"
)

func TestSplitN(t *testing.T) {
	parts := splitN([]string{"a", "b", "c", "d", "e"}, 2)
	if len(parts) != 2 || strings.Join(parts[0], "") != "ace" || strings.Join(parts[1], "") != "bd" {
		t.Errorf("splitN = %v", parts)
	}
	if parts := splitN([]string{"a"}, 4); len(parts) != 1 {
		t.Errorf("splitN of one path into 4 = %v, want one part", parts)
	}
}

func TestTargets(t *testing.T) {
	cases := []CaseResult{
		{Tool: "muster validate", Format: "yaml", FilesPerSec: 10000, MedianFilesPerSec: 9000, FilesPerCPUSec: 8000},
		{Tool: "kubeconform", Variant: "-n 2", Format: "yaml", FilesPerSec: 1500, MedianFilesPerSec: 1400, FilesPerCPUSec: 3000},
		{Tool: "kubeconform", Variant: "default (-n 4)", Format: "yaml", FilesPerSec: 2000, MedianFilesPerSec: 1800, FilesPerCPUSec: 2900},
		{Tool: "kubeconform", Variant: "1 file (fixed cost)", Format: "yaml", FilesPerSec: 90000},
	}
	ts := targets(cases)
	y := ts[0]
	if y.Name != "YAML >= 5x kubeconform" || y.Peer != 2000 || y.Ratio != 5 || y.Status != "ok" {
		t.Errorf("YAML target = %+v, want the fastest kubeconform run (2000/s) and ratio 5", y)
	}
	if !strings.HasPrefix(ts[2].Status, "n/a") {
		t.Errorf("HCL target without an HCL case = %+v, want n/a", ts[2])
	}
}

func TestReason(t *testing.T) {
	for out, want := range map[string]string{
		"/tmp/x/broken/a.yaml:3:1: error: count applies only to batch and service jobs (count)\n  3 | count: 2": "a.yaml:3:1: error: count applies only to batch and service jobs (count)",
		"count: field not allowed:\n    ./broken/a.vet.cue:292:1":                                               "count: field not allowed:",
		"a.kube.yaml - MusterJob  is invalid: problem validating schema. Check JSON formatting: jsonschema validation failed with 'file:///s.json#' - at '': 'allOf' failed   - at '/count': false schema\nSummary: 1 resource": "schema: at '/count': false schema",
	} {
		if got := reason(out); got != want {
			t.Errorf("reason(%q) = %q, want %q", out, got, want)
		}
	}
}

func TestCUEVetFile(t *testing.T) {
	one := string(cueVetFile("#Job: {}", []byte(`name: "a"`), 1))
	if !strings.Contains(one, "_in: {\nname: \"a\"\n}\n#Job & _in\n") {
		t.Errorf("single job wrapper:\n%s", one)
	}
	many := string(cueVetFile("#Job: {}", []byte(`jobs: []`), 2))
	if !strings.HasSuffix(many, "close({jobs: [...#Job]}) & _in\n") {
		t.Errorf("multi-job wrapper:\n%s", many)
	}
}

package state

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadInventory(t *testing.T) {
	ok := []struct {
		name, file, content string
		want                []Node
	}{
		{"yaml", "nodes.yaml", `
- id: node-a
  labels: {zone: us-east, example.com/gpu: "", rank: 1}
- id: node-b
  labels:
    zone: us-west
- id: node-c
`, []Node{
			{ID: "node-a", Labels: map[string]string{"zone": "us-east", "example.com/gpu": "", "rank": "1"}},
			{ID: "node-b", Labels: map[string]string{"zone": "us-west"}},
			{ID: "node-c", Labels: map[string]string{}},
		}},
		{"json with tabs", "nodes.json", "[\n\t{\"id\": \"n1\",\n\t \"labels\": {\"os\": \"linux\"}},\n\t{\"id\": \"n2\", \"labels\": {}}\n]\n", []Node{
			{ID: "n1", Labels: map[string]string{"os": "linux"}},
			{ID: "n2", Labels: map[string]string{}},
		}},
		{"empty file", "nodes.yaml", "", nil},
		{"empty list", "nodes.json", "[]", []Node{}},
		{"null labels", "nodes.yaml", "- id: a\n  labels: ~\n", []Node{{ID: "a", Labels: map[string]string{}}}},
		{"capacity", "nodes.yaml", "- id: a\n  cpus: 4\n  memory: 8G\n- id: b\n  cpus: \"500m\"\n- id: c\n  memory: 1536Mi\n- id: d\n", []Node{
			{ID: "a", Labels: map[string]string{}, Capacity: &Capacity{CPUs: 4, MemoryMB: 8192}},
			{ID: "b", Labels: map[string]string{}, Capacity: &Capacity{CPUs: 0.5}},
			{ID: "c", Labels: map[string]string{}, Capacity: &Capacity{MemoryMB: 1536}},
			{ID: "d", Labels: map[string]string{}},
		}},
		{"capacity in json", "nodes.json", `[{"id": "a", "cpus": 2.5, "memory": "1G"}, {"id": "b", "cpus": "250m"}]`, []Node{
			{ID: "a", Labels: map[string]string{}, Capacity: &Capacity{CPUs: 2.5, MemoryMB: 1024}},
			{ID: "b", Labels: map[string]string{}, Capacity: &Capacity{CPUs: 0.25}},
		}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := LoadInventory(writeFile(t, c.file, c.content))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for i := range got {
				if got[i].ID != c.want[i].ID || !maps.Equal(got[i].Labels, c.want[i].Labels) || got[i].Labels == nil ||
					(got[i].Capacity == nil) != (c.want[i].Capacity == nil) || got[i].Capacity != nil && *got[i].Capacity != *c.want[i].Capacity {
					t.Errorf("node %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}

	bad := []struct {
		name, file, content string
		want                []string // every diagnostic, file:line:col: error: message (path)
	}{
		{"syntax", "nodes.yaml", "- id: a\n  labels: {zone: x\n", []string{
			"nodes.yaml:3:1: error: invalid YAML or JSON: did not find expected ',' or '}'"}},
		{"json syntax", "nodes.json", "[{\"id\": \"a\",}]", []string{
			"nodes.json:1:13: error: invalid JSON: invalid character '}' looking for beginning of object key string"}},
		{"json syntax line 2", "nodes.json", "[\n  {\"é\": a}]", []string{
			"nodes.json:2:9: error: invalid JSON: invalid character 'a' looking for beginning of value"}},
		{"not a list", "nodes.yaml", "id: a\n", []string{
			"nodes.yaml:1:1: error: a node inventory must be a list of nodes ([{id, labels}]), not a mapping"}},
		{"entry not a map", "nodes.yaml", "- a\n", []string{
			"nodes.yaml:1:3: error: node 1 must be a mapping (id, labels, cpus, memory), not a string ([0])"}},
		{"unknown field", "nodes.yaml", "- id: a\n  label: {x: y}\n", []string{
			`nodes.yaml:2:3: error: unknown field "label" in node 1: want id, labels, cpus, memory ([0].label)`}},
		{"field twice", "nodes.yaml", "- id: a\n  id: b\n", []string{
			`nodes.yaml:2:3: error: field "id" given twice in node 1 (first at line 1) ([0].id)`}},
		{"missing id", "nodes.yaml", "- labels: {x: y}\n", []string{
			"nodes.yaml:1:3: error: node 1 has no id ([0])"}},
		{"id not a string", "nodes.yaml", "- id: [a]\n", []string{
			"nodes.yaml:1:7: error: id must be a string, not a list ([0].id)"}},
		{"bad id", "nodes.yaml", "- id: a b\n", []string{
			`nodes.yaml:1:7: error: invalid node id "a b": must be 1 to 253 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, without '..' ([0].id)`}},
		{"duplicate id", "nodes.yaml", "- id: a\n- id: b\n- id: a\n", []string{
			`nodes.yaml:3:7: error: duplicate node id "a" (first at line 1) ([2].id)`}},
		{"bad label key", "nodes.yaml", "- id: a\n  labels: {-x: y}\n", []string{
			`nodes.yaml:2:12: error: invalid label key "-x": name must start and end with a letter or digit ([0].labels.-x)`}},
		{"label twice", "nodes.yaml", "- id: a\n  labels:\n    x: a\n    x: b\n", []string{
			`nodes.yaml:4:5: error: label "x" given twice (first at line 3) ([0].labels.x)`}},
		{"bad label value", "nodes.yaml", "- id: a\n  labels:\n    x: a b\n", []string{
			`nodes.yaml:3:8: error: invalid label value "a b": may hold only letters, digits, '-', '_' and '.' ([0].labels.x)`}},
		{"label value a list", "nodes.yaml", "- id: a\n  labels: {x: [1]}\n", []string{
			"nodes.yaml:2:15: error: label x must have a string value, not a list ([0].labels.x)"}},
		{"labels not a mapping", "nodes.yaml", "- id: a\n  labels: [x]\n", []string{
			"nodes.yaml:2:11: error: labels must be a mapping of label keys to values, not a list ([0].labels)"}},
		{"cpus not a number", "nodes.yaml", "- id: a\n  cpus: lots\n", []string{
			`nodes.yaml:2:9: error: invalid cpus "lots": want a number such as 0.5 or 2, or millicores such as "500m" ([0].cpus)`}},
		{"cpus zero", "nodes.yaml", "- id: a\n  cpus: 0\n", []string{
			`nodes.yaml:2:9: error: cpus "0": want more than 0 and at most 1048576 ([0].cpus)`}},
		{"cpus a list", "nodes.yaml", "- id: a\n  cpus: [1]\n", []string{
			`nodes.yaml:2:9: error: cpus must be a number of cores such as 4 or 0.5, or millicores such as "500m", not a list ([0].cpus)`}},
		{"memory without a unit", "nodes.yaml", "- id: a\n  memory: 8\n", []string{
			`nodes.yaml:2:11: error: memory must be a string with a unit, such as "8G" or "512M", not a number ([0].memory)`}},
		{"memory in a unit muster lacks", "nodes.json", `[{"id": "a", "memory": "8GB"}]`, []string{
			`nodes.json:1:24: error: invalid memory "8GB": want a whole number with a unit M, G, Mi or Gi, such as "512M" or "2G" ([0].memory)`}},
		{"two documents", "nodes.yaml", "- id: a\n---\n- id: b\n", []string{
			"nodes.yaml:2:1: error: the file must hold one document"}},
		{"every error, in file order", "nodes.yaml", "- id: a b\n- labels: {x: a b}\n", []string{
			`nodes.yaml:1:7: error: invalid node id "a b": must be 1 to 253 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, without '..' ([0].id)`,
			"nodes.yaml:2:3: error: node 2 has no id ([1])",
			`nodes.yaml:2:15: error: invalid label value "a b": may hold only letters, digits, '-', '_' and '.' ([1].labels.x)`,
		}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadInventory(writeFile(t, c.file, c.content))
			checkDiagnostics(t, err, c.want)
		})
	}
	if _, err := LoadInventory(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestLocalNode(t *testing.T) {
	host, _ := os.Hostname()
	n, err := LocalNode("", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != host || n.Labels[LabelOS] != runtime.GOOS || n.Labels[LabelArch] != runtime.GOARCH || n.Labels[LabelHostname] != hostLabel(host) || n.Status != NodeReady {
		t.Fatalf("LocalNode = %+v", n)
	}

	cfg := writeFile(t, "node.yaml", "id: worker-1\nlabels:\n  zone: eu\n  os: custom\n")
	n, err = LocalNode(cfg, map[string]string{"zone": "eu-2", "example.com/ssd": "true"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"os": "custom", "arch": runtime.GOARCH, "hostname": hostLabel(host), "zone": "eu-2", "example.com/ssd": "true"}
	if n.ID != "worker-1" || !maps.Equal(n.Labels, want) {
		t.Fatalf("LocalNode(config, extra) = %+v, want labels %v", n, want)
	}
	cfgJSON := writeFile(t, "node.json", `{"labels": {"rack": "r1"}}`)
	if n, err = LocalNode(cfgJSON, nil); err != nil || n.ID != host || n.Labels["rack"] != "r1" {
		t.Fatalf("LocalNode(json) = %+v, %v", n, err)
	}
	if n, err = LocalNode(writeFile(t, "empty.yaml", ""), nil); err != nil || n.ID != host {
		t.Fatalf("LocalNode(empty config) = %+v, %v", n, err)
	}

	bad := []struct {
		name, file, content string
		want                []string
	}{
		{"unknown field", "node.yaml", "name: x\n", []string{
			`node.yaml:1:1: error: unknown field "name" in the node config: want id, labels (name)`}},
		{"bad id", "node.yaml", "id: -x\n", []string{
			`node.yaml:1:5: error: invalid node id "-x": must be 1 to 253 letters, digits, '-', '_' or '.', starting and ending with a letter or digit, without '..' (id)`}},
		{"id not a string", "node.yaml", "id: 12\n", []string{
			"node.yaml:1:5: error: id must be a string, not a number (id)"}},
		{"bad label", "node.yaml", "labels:\n  zone: eu\n  x: a/b\n", []string{
			`node.yaml:3:6: error: invalid label value "a/b": may hold only letters, digits, '-', '_' and '.' (labels.x)`}},
		{"not a mapping", "node.json", "[]", []string{
			"node.json:1:1: error: the node config must be a mapping (id, labels), not a list"}},
		{"json syntax", "node.json", "{\"labels\": {\"x\": \"y\"}\n\"id\": \"a\"}", []string{
			"node.json:2:1: error: invalid JSON: invalid character '\"' after object key:value pair"}},
		{"yaml syntax", "node.yaml", "labels: [x\n", []string{
			"node.yaml:2:1: error: invalid YAML or JSON: did not find expected ',' or ']'"}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := LocalNode(writeFile(t, c.file, c.content), nil)
			checkDiagnostics(t, err, c.want)
		})
	}
	for _, c := range []struct {
		name  string
		extra map[string]string
		part  string
	}{
		{"bad extra key", map[string]string{"a b": "c"}, `--label a b=c: invalid label key`},
		{"bad extra value", map[string]string{"k": "-v"}, `--label k=-v: invalid label value`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := LocalNode("", c.extra)
			if err == nil || !strings.Contains(err.Error(), c.part) {
				t.Errorf("LocalNode = %v, want an error containing %q", err, c.part)
			}
		})
	}
	if _, err := LocalNode(filepath.Join(t.TempDir(), "missing.yaml"), nil); err == nil {
		t.Error("LocalNode with a missing config file succeeded")
	}
}

func TestHostLabel(t *testing.T) {
	long := strings.Repeat("a", 70)
	for host, want := range map[string]string{
		"box":                          "box",
		"box.example.com":              "box.example.com",
		"box." + long + ".example.com": "box",
		long:                           "",
	} {
		if got := hostLabel(host); got != want {
			t.Errorf("hostLabel(%q) = %q, want %q", host, got, want)
		}
	}
}

// checkDiagnostics checks that err is lang.Diagnostics, printed as job
// diagnostics are, and that its lines (file names without their
// directory) are want.
func checkDiagnostics(t *testing.T, err error, want []string) {
	t.Helper()
	var ds lang.Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("error %v (%T) is not lang.Diagnostics", err, err)
	}
	if err.Error() != ds.Error() {
		t.Errorf("Error() = %q, want the diagnostics %q", err.Error(), ds.Error())
	}
	var got []string
	for _, d := range ds {
		if d.Range.Start.Line < 1 || d.Range.Start.Column < 1 {
			t.Errorf("%s: no line and column", d.Error())
		}
		d.Range.Filename = filepath.Base(d.Range.Filename)
		got = append(got, d.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

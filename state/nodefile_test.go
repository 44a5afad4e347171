package state

import (
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
				if got[i].ID != c.want[i].ID || !maps.Equal(got[i].Labels, c.want[i].Labels) || got[i].Labels == nil {
					t.Errorf("node %d = %+v, want %+v", i, got[i], c.want[i])
				}
			}
		})
	}

	bad := []struct {
		name, file, content string
		errs                []string // each must appear, with its position
	}{
		{"syntax", "nodes.yaml", "- id: a\n  labels: {zone: x\n", []string{"nodes.yaml:3:1: invalid YAML or JSON"}},
		{"json syntax", "nodes.json", "[{\"id\": \"a\",}]", []string{"nodes.json:1:13: invalid JSON"}},
		{"json syntax line 2", "nodes.json", "[\n  {\"id\": a}]", []string{"nodes.json:2:10: invalid JSON: invalid character 'a'"}},
		{"not a list", "nodes.yaml", "id: a\n", []string{"nodes.yaml:1:1: a node inventory must be a list"}},
		{"entry not a map", "nodes.yaml", "- a\n", []string{"nodes.yaml:1:3: node 1 must be a mapping"}},
		{"unknown field", "nodes.yaml", "- id: a\n  label: {x: y}\n", []string{`nodes.yaml:2:3: unknown field "label" in node 1: want id, labels`}},
		{"missing id", "nodes.yaml", "- labels: {x: y}\n", []string{"nodes.yaml:1:3: node 1 has no id"}},
		{"id not a string", "nodes.yaml", "- id: [a]\n", []string{"nodes.yaml:1:7: node 1 id must be a string, not a list"}},
		{"bad id", "nodes.yaml", "- id: a b\n", []string{`nodes.yaml:1:7: invalid node id "a b"`}},
		{"duplicate id", "nodes.yaml", "- id: a\n- id: b\n- id: a\n", []string{`nodes.yaml:3:7: duplicate node id "a" (first at line 1)`}},
		{"bad label key", "nodes.yaml", "- id: a\n  labels: {-x: y}\n", []string{`nodes.yaml:2:12: node 1 labels: invalid label key "-x"`}},
		{"bad label value", "nodes.yaml", "- id: a\n  labels:\n    x: a b\n", []string{`nodes.yaml:3:8: node 1 labels: label x: invalid label value "a b"`}},
		{"label value a list", "nodes.yaml", "- id: a\n  labels: {x: [1]}\n", []string{"nodes.yaml:2:15: node 1 labels: label x must have a string value, not a list"}},
		{"two documents", "nodes.yaml", "- id: a\n---\n- id: b\n", []string{"must hold one document"}},
		{"every error", "nodes.yaml", "- id: a b\n- labels: {x: a b}\n", []string{"nodes.yaml:1:7:", "nodes.yaml:2:3: node 2 has no id", "nodes.yaml:2:15:"}},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadInventory(writeFile(t, c.file, c.content))
			if err == nil {
				t.Fatal("no error")
			}
			for _, part := range c.errs {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
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
		extra               map[string]string
		part                string
	}{
		{"unknown field", "node.yaml", "name: x\n", nil, `node.yaml:1:1: unknown field "name"`},
		{"bad id", "node.yaml", "id: -x\n", nil, `node.yaml:1:5: invalid node id "-x"`},
		{"bad label", "node.yaml", "labels: {x: a/b}\n", nil, `node.yaml:1:13: labels: label x: invalid label value`},
		{"not a mapping", "node.json", "[]", nil, "node.json:1:1: the node config must be a mapping"},
		{"bad extra key", "", "", map[string]string{"a b": "c"}, `--label a b=c: invalid label key`},
		{"bad extra value", "", "", map[string]string{"k": "-v"}, `--label k=-v: invalid label value`},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			path := ""
			if c.file != "" {
				path = writeFile(t, c.file, c.content)
			}
			_, err := LocalNode(path, c.extra)
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

package state

import (
	"fmt"
	"maps"
	"os"
	"runtime"
	"strings"

	"github.com/muster-dev/muster/selector"
	"go.yaml.in/yaml/v4"
)

// Labels every local node gets.
const (
	LabelOS       = "os"       // runtime.GOOS
	LabelArch     = "arch"     // runtime.GOARCH
	LabelHostname = "hostname" // the host name (its first DNS label if the whole is not a valid label value)
)

// LocalNode describes the machine this process runs on: id = host name,
// labels os, arch and hostname. configFile, if not empty, is a YAML or JSON
// file `{id: ..., labels: {...}}` whose id replaces the host name and whose
// labels are added (overriding the built-in ones); extra labels (from
// `--label k=v`) are added last and win. Every key and value is validated;
// the problems of the config file come back as lang.Diagnostics.
// The node's Status is NodeReady; LastSeen is left zero.
func LocalNode(configFile string, extra map[string]string) (Node, error) {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	n := Node{
		ID: host,
		Labels: map[string]string{
			LabelOS:       runtime.GOOS,
			LabelArch:     runtime.GOARCH,
			LabelHostname: hostLabel(host),
		},
		Status: NodeReady,
	}
	if configFile != "" {
		id, labels, err := loadNodeConfig(configFile)
		if err != nil {
			return Node{}, err
		}
		if id != "" {
			n.ID = id
		}
		maps.Copy(n.Labels, labels)
	}
	for _, k := range sortedKeys(extra) {
		if err := selector.ValidateKey(k); err != nil {
			return Node{}, fmt.Errorf("--label %s=%s: %w", k, extra[k], err)
		}
		if err := selector.ValidateValue(extra[k]); err != nil {
			return Node{}, fmt.Errorf("--label %s=%s: %w", k, extra[k], err)
		}
		n.Labels[k] = extra[k]
	}
	if err := CheckNodeID(n.ID); err != nil {
		return Node{}, fmt.Errorf("local node: %w (set another id in the node config file)", err)
	}
	return n, nil
}

// hostLabel returns host, or its first DNS label, or "" if neither is a
// valid label value.
func hostLabel(host string) string {
	if selector.ValidateValue(host) == nil {
		return host
	}
	short, _, _ := strings.Cut(host, ".")
	if selector.ValidateValue(short) == nil {
		return short
	}
	return ""
}

// loadNodeConfig reads a node config file: `{id?, labels?}`. Its problems
// are lang.Diagnostics at file:line:col with their field path ("labels.zone").
func loadNodeConfig(path string) (id string, labels map[string]string, err error) {
	f := &nodeFile{path: path}
	root, err := f.load()
	if err != nil || root == nil {
		return "", nil, err
	}
	f.fields(root, "the node config", "", []string{"id", "labels"}, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			s, ok := f.str(v, "id")
			if !ok {
				return
			}
			if err := CheckNodeID(s); err != nil {
				f.errorf(v, "id", "%v", err)
				return
			}
			id = s
		case "labels":
			labels = f.labels(v, "labels")
		}
	})
	if err := f.err(); err != nil {
		return "", nil, err
	}
	return id, labels, nil
}

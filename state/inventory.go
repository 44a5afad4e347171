package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v4"
)

// LoadInventory reads a node inventory file, a list of nodes
// `[{id, labels, cpus, memory}]` in YAML or JSON (by extension; .json is
// JSON, anything else YAML), as `muster plan --nodes` takes it. cpus (a
// number, or millicores such as "500m") and memory ("8G", "512M", "4Gi")
// are the node's capacity, as `muster agent --cpus --memory` advertise it;
// a node without them is unlimited. Every problem is reported,
// as lang.Diagnostics at file:line:col with its field path ("[1].id"):
// syntax errors, unknown fields, missing or invalid ids, duplicate ids,
// invalid labels and invalid capacities. An error reading the file is returned as it is. An empty
// file or list gives no nodes. The nodes come back in file order.
func LoadInventory(path string) ([]Node, error) {
	if nodes, ok := loadJSONInventory(path); ok {
		return nodes, nil
	}
	f := &nodeFile{path: path}
	root, err := f.load()
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, nil
	}
	if root.Kind != yaml.SequenceNode {
		f.errorf(root, "", "a node inventory must be a list of nodes ([{id, labels}]), not %s", kindOf(root))
		return nil, f.err()
	}
	nodes := make([]Node, 0, len(root.Content))
	where := map[string]int{} // id -> line of its first entry
	for i, item := range root.Content {
		what, base := fmt.Sprintf("node %d", i+1), fmt.Sprintf("[%d]", i)
		n := Node{Labels: map[string]string{}}
		hasID := false
		f.fields(item, what, base, []string{"id", "labels", "cpus", "memory"}, func(key string, k, v *yaml.Node) {
			switch key {
			case "id":
				hasID = true
				id, ok := f.str(v, base+".id")
				if !ok {
					return
				}
				if err := CheckNodeID(id); err != nil {
					f.errorf(v, base+".id", "%v", err)
					return
				}
				if first, dup := where[id]; dup {
					f.errorf(v, base+".id", "duplicate node id %q (first at line %d)", id, first)
					return
				}
				where[id] = v.Line
				n.ID = id
			case "labels":
				n.Labels = f.labels(v, base+".labels")
			case "cpus":
				if cpus, ok := f.cpus(v, base+".cpus"); ok {
					n.Capacity = withCapacity(n.Capacity, func(c *Capacity) { c.CPUs = cpus })
				}
			case "memory":
				if mb, ok := f.memory(v, base+".memory"); ok {
					n.Capacity = withCapacity(n.Capacity, func(c *Capacity) { c.MemoryMB = mb })
				}
			}
		})
		if item.Kind == yaml.MappingNode && !hasID {
			f.errorf(item, base, "%s has no id", what)
		}
		nodes = append(nodes, n)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return nodes, nil
}

// loadJSONInventory is the fast path for a valid .json inventory: one pass
// of encoding/json. Anything it does not accept (a syntax error, an unknown
// field, a bad id or label, a duplicate) makes it give up, and the positional
// reader above reports the problem with file:line:col.
func loadJSONInventory(path string) ([]Node, bool) {
	if !strings.EqualFold(filepath.Ext(path), ".json") {
		return nil, false
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.DisallowUnknownFields()
	var items []struct {
		ID     *string           `json:"id"`
		Labels map[string]string `json:"labels"`
		CPUs   json.RawMessage   `json:"cpus"`
		Memory *string           `json:"memory"`
	}
	if err := dec.Decode(&items); err != nil || dec.More() {
		return nil, false
	}
	nodes := make([]Node, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		if it.ID == nil || seen[*it.ID] || CheckNodeID(*it.ID) != nil {
			return nil, false
		}
		seen[*it.ID] = true
		n := Node{ID: *it.ID, Labels: it.Labels}
		if n.Labels == nil {
			n.Labels = map[string]string{}
		}
		if it.CPUs != nil {
			cpus, err := jsonCPUs(it.CPUs)
			if err != nil {
				return nil, false
			}
			n.Capacity = withCapacity(n.Capacity, func(c *Capacity) { c.CPUs = cpus })
		}
		if it.Memory != nil {
			mb, err := ParseCapacityMemory(*it.Memory)
			if err != nil {
				return nil, false
			}
			n.Capacity = withCapacity(n.Capacity, func(c *Capacity) { c.MemoryMB = mb })
		}
		if n.Validate() != nil {
			return nil, false
		}
		nodes = append(nodes, n)
	}
	return nodes, true
}

// withCapacity returns c (a new one when nil) changed by set.
func withCapacity(c *Capacity, set func(*Capacity)) *Capacity {
	if c == nil {
		c = &Capacity{}
	}
	set(c)
	return c
}

// jsonCPUs reads a cpus value of a JSON inventory: a number or a string.
func jsonCPUs(raw json.RawMessage) (float64, error) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(bytes.TrimSpace(raw))
	}
	return ParseCapacityCPUs(s)
}

// cpus reads a node's cpus: a number (4, 0.5) or a string of one or of
// millicores ("500m"), more than 0.
func (f *nodeFile) cpus(n *yaml.Node, path string) (float64, bool) {
	if n.Kind != yaml.ScalarNode || !slices.Contains([]string{"!!int", "!!float", "!!str"}, n.ShortTag()) {
		f.errorf(n, path, "cpus must be a number of cores such as 4 or 0.5, or millicores such as \"500m\", not %s", kindOf(n))
		return 0, false
	}
	v, err := ParseCapacityCPUs(n.Value)
	if err != nil {
		f.errorf(n, path, "%v", err)
		return 0, false
	}
	return v, true
}

// memory reads a node's memory: `<n>M`, `<n>G`, `<n>Mi` or `<n>Gi`.
func (f *nodeFile) memory(n *yaml.Node, path string) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		f.errorf(n, path, "memory must be a string with a unit, such as \"8G\" or \"512M\", not %s", kindOf(n))
		return 0, false
	}
	mb, err := ParseCapacityMemory(n.Value)
	if err != nil {
		f.errorf(n, path, "%v", err)
		return 0, false
	}
	return mb, true
}

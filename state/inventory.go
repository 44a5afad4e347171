package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v4"
)

// LoadInventory reads a node inventory file, a list of nodes
// `[{id, labels}]` in YAML or JSON (by extension; .json is JSON, anything
// else YAML), as `muster plan --nodes` takes it. Every problem is reported,
// as lang.Diagnostics at file:line:col with its field path ("[1].id"):
// syntax errors, unknown fields, missing or invalid ids, duplicate ids and
// invalid labels. An error reading the file is returned as it is. An empty
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
		f.fields(item, what, base, []string{"id", "labels"}, func(key string, k, v *yaml.Node) {
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
		if n.Validate() != nil {
			return nil, false
		}
		nodes = append(nodes, n)
	}
	return nodes, true
}

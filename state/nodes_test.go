package state

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func testNodes(t *testing.T, b backend) {
	s := b.fresh(t, false)
	ctx := ctxT(t)
	if nodes, err := s.Nodes(ctx); err != nil || len(nodes) != 0 {
		t.Fatalf("Nodes on an empty store = %v, %v", nodes, err)
	}
	seen := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, n := range []Node{
		{ID: "node-b", Labels: map[string]string{"zone": "b"}, Status: NodeReady, LastSeen: seen},
		{ID: "node-a.example.com", Labels: map[string]string{"zone": "a", "example.com/gpu": ""}, Address: "10.0.0.1:4748", Status: NodeReady},
		{ID: "node-c"},
	} {
		got, err := s.PutNode(ctx, n)
		if err != nil || got.ID != n.ID {
			t.Fatalf("PutNode(%s) = %+v, %v", n.ID, got, err)
		}
	}
	// Upsert: replace node-b.
	if _, err := s.PutNode(ctx, Node{ID: "node-b", Labels: map[string]string{"zone": "b2"}, Status: NodeDown, LastSeen: seen}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Node(ctx, "node-b")
	if err != nil || got.Labels["zone"] != "b2" || got.Status != NodeDown || !got.LastSeen.Equal(seen) {
		t.Fatalf("Node(node-b) = %+v, %v", got, err)
	}
	a, err := s.Node(ctx, "node-a.example.com")
	if err != nil || a.Address != "10.0.0.1:4748" || !maps.Equal(a.Labels, map[string]string{"zone": "a", "example.com/gpu": ""}) {
		t.Fatalf("Node(node-a) = %+v, %v", a, err)
	}
	nodes, err := s.Nodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range nodes {
		ids = append(ids, n.ID)
	}
	if strings.Join(ids, " ") != "node-a.example.com node-b node-c" {
		t.Fatalf("Nodes = %v", ids)
	}
	if c, _ := s.Node(ctx, "node-c"); c.Labels == nil {
		t.Error("a node without labels reads back with nil labels, want empty")
	}

	if err := s.DeleteNode(ctx, "node-b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Node(ctx, "node-b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Node after delete: %v", err)
	}
	if err := s.DeleteNode(ctx, "node-b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second DeleteNode: %v", err)
	}
	if nodes, _ := s.Nodes(ctx); len(nodes) != 2 {
		t.Fatalf("Nodes after delete = %+v", nodes)
	}
	// Put again after a delete.
	if _, err := s.PutNode(ctx, Node{ID: "node-b"}); err != nil {
		t.Fatal(err)
	}

	bad := []struct {
		name string
		node Node
		part string
	}{
		{"empty id", Node{}, "invalid node id"},
		{"id with space", Node{ID: "a b"}, "invalid node id"},
		{"id with star", Node{ID: "a*"}, "invalid node id"},
		{"id with dots", Node{ID: "a..b"}, "invalid node id"},
		{"bad label key", Node{ID: "n", Labels: map[string]string{"-x": "1"}}, "invalid label key"},
		{"bad label value", Node{ID: "n", Labels: map[string]string{"x": "a b"}}, "invalid label value"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			if _, err := s.PutNode(ctx, c.node); err == nil || !strings.Contains(err.Error(), c.part) {
				t.Errorf("PutNode(%+v) = %v, want an error containing %q", c.node, err, c.part)
			}
		})
	}
	if _, err := s.Node(ctx, "missing"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "node missing not found") {
		t.Errorf("Node(missing) = %v", err)
	}
}

func TestInputErrorsMatchErrInvalid(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for name, err := range map[string]error{
		"job name":     CheckJob("default", "Web"),
		"namespace":    CheckNamespace("-x"),
		"execution id": CheckExecutionID("a/b"),
		"hash":         CheckHash("spec", "sha256:xyz"),
		"node id":      CheckNodeID("a..b"),
		"prefix":       func() error { _, err := st.ResolveSpec(ctx, "abc"); return err }(),
		"job state": func() error {
			_, err := st.CommitVersion(ctx, "default", "web", "sha256:"+strings.Repeat("a", 64), 0, "sleeping")
			return err
		}(),
		"label": func() error {
			_, err := st.PutNode(ctx, Node{ID: "n1", Labels: map[string]string{"-bad": "x"}})
			return err
		}(),
	} {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v does not match ErrInvalid", name, err)
		}
	}
}

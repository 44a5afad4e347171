package boundary

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is the import path of the module under test.
const module = "github.com/muster-dev/muster"

// moduleRoot returns the directory of the module's go.mod, checking that
// it is this module.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			if first, _, _ := strings.Cut(string(b), "\n"); strings.TrimSpace(first) != "module "+module {
				t.Fatalf("%s/go.mod is %q, not module %s", dir, first, module)
			}
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// deps returns the module's packages that pkg depends on, directly or not,
// pkg included, each with the chain of imports that reaches it. It reads
// the imports of every non-test Go file whatever its build constraints, so
// that an import made for one platform only counts too.
func deps(t *testing.T, root, pkg string) map[string][]string {
	t.Helper()
	ctx := build.Default
	ctx.UseAllFiles = true
	seen := map[string][]string{}
	var walk func(path string, chain []string)
	walk = func(path string, chain []string) {
		if _, ok := seen[path]; ok {
			return
		}
		chain = append(slices.Clone(chain), path)
		seen[path] = chain
		dir := filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(path, module)))
		p, err := ctx.ImportDir(dir, build.ImportComment)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		for _, imp := range p.Imports {
			if imp == module || strings.HasPrefix(imp, module+"/") {
				walk(imp, chain)
			}
		}
	}
	walk(module+"/"+pkg, nil)
	return seen
}

// TestBoundaries: the HTTP API has its own wire types and the remote
// runner its own view of the engine's needs: neither depends on the
// rollout engine (package apply), for any platform. The walk itself is
// checked against imports known to exist, so that it cannot pass by
// finding nothing.
func TestBoundaries(t *testing.T) {
	root := moduleRoot(t)
	tests := []struct {
		pkg       string
		never     []string // packages it must not depend on
		certainly []string // packages it does depend on
	}{
		{pkg: "api", never: []string{"apply", "runner", "cli"}, certainly: []string{"state", "schema"}},
		{pkg: "runner/remote", never: []string{"apply", "api", "cli"}, certainly: []string{"runner", "state"}},
		{pkg: "cli", certainly: []string{"apply", "api", "runner/remote"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			got := deps(t, root, tt.pkg)
			for _, p := range tt.never {
				if chain, ok := got[module+"/"+p]; ok {
					t.Errorf("%s depends on %s: %s", tt.pkg, p, strings.Join(chain, " → "))
				}
			}
			for _, p := range tt.certainly {
				if _, ok := got[module+"/"+p]; !ok {
					t.Errorf("the walk of %s's imports misses %s, which it imports: the walk is broken", tt.pkg, p)
				}
			}
		})
	}
}

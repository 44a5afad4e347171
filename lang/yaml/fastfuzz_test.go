package yaml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/muster-dev/muster/bench/jobgen"
)

// FuzzFastSameAsSlow checks that, on every input the fast path takes, it
// gives the same jobs and diagnostics as yaml.v4.
func FuzzFastSameAsSlow(f *testing.F) {
	for _, s := range fastSamples {
		f.Add([]byte(s))
	}
	paths, _ := filepath.Glob("../../examples/*/*.yaml")
	for _, p := range paths {
		if src, err := os.ReadFile(p); err == nil {
			f.Add(src)
		}
	}
	for _, src := range jobgen.Sources(3, 8, jobgen.YAML) {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		sameAsSlow(t, "fuzz", src)
	})
}

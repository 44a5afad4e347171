package yaml_test

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
)

// TestSelfMerge: a mapping that merges itself, once or twice, is an error,
// not a stack overflow or an exponential expansion (found by FuzzParse).
func TestSelfMerge(t *testing.T) {
	for _, s := range []string{"a: &b\n <<: *b\n", "a: &b\n  x: 1\n  <<: *b\n", "a: &b\n <<: [*b, *b]\n"} {
		_, diags := yaml.Parse("r.yaml", []byte(s), lang.Options{})
		if !diags.HasErrors() || !strings.Contains(diags.Error(), "merge itself") {
			t.Errorf("%q: diagnostics %v, want the self-merge error", s, diags)
		}
	}
}

package yaml_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
)

// TestAliasesOfLongStrings: aliases of a long string expand to text, not
// only to nodes. A million aliases of one 100 KB string in a 4 MB file would
// be 100 GB of canonical JSON; ten levels of ten aliases of a list of it
// used to take 20 s counting the string's characters once per alias.
func TestAliasesOfLongStrings(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	flat := "name: web\ntask:\n  engine: exec\n  cmd: [&s \"" + long + "\"" + strings.Repeat(", *s", 1000) + "]\n"
	var nested strings.Builder
	nested.WriteString("a0: &a0 [\"" + long + "\"]\n")
	for i := 1; i <= 11; i++ {
		nested.WriteString("a" + itoa(i) + ": &a" + itoa(i) + " [" + strings.TrimSuffix(strings.Repeat("*a"+itoa(i-1)+", ", 10), ", ") + "]\n")
	}
	nested.WriteString("name: web\n")
	for name, src := range map[string]string{"flat": flat, "nested": nested.String()} {
		start := time.Now()
		_, diags := yaml.Parse("big.yaml", []byte(src), lang.Options{})
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s: parsing took %v", name, took)
		}
		if !strings.Contains(diags.Error(), "MiB of text (aliases?)") {
			t.Errorf("%s: diagnostics %v, want the expansion error", name, diags)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

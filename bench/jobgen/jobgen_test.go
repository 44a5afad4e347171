package jobgen_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-dev/muster/bench/jobgen"
	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

// supported reports whether muster has a frontend for f yet (HCL and CUE
// arrive later than YAML and JSON).
func supported(f compiler.Format) bool {
	r := compiler.Compile("probe", []byte("{}"), f, lang.Options{})
	for _, d := range r.Diags {
		if strings.Contains(d.Message, "unsupported format") {
			return false
		}
	}
	return true
}

// TestCorpusValid compiles a corpus in every supported format: every file
// must be valid, and a job must hash the same in every format.
func TestCorpusValid(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	hashes := map[string]map[string]string{} // job name -> format -> hash
	for _, f := range jobgen.Generate(1, n) {
		for _, fm := range jobgen.Formats {
			cf := compiler.Format(fm)
			if !supported(cf) {
				continue
			}
			src := jobgen.Render(f, fm)
			name := f.Base + "." + string(fm)
			res := compiler.Compile(name, src, cf, lang.Options{})
			if res.Diags.HasErrors() {
				t.Errorf("%s is invalid:\n%v\n%s", name, res.Diags.Err(), src)
				continue
			}
			if len(res.Jobs) != len(f.Jobs) {
				t.Errorf("%s: %d jobs, want %d", name, len(res.Jobs), len(f.Jobs))
				continue
			}
			for _, j := range res.Jobs {
				if hashes[j.Spec.Name] == nil {
					hashes[j.Spec.Name] = map[string]string{}
				}
				hashes[j.Spec.Name][string(fm)] = j.Spec.Hash()
			}
		}
	}
	for name, byFormat := range hashes {
		var first, firstFormat string
		for _, fm := range jobgen.Formats {
			h, ok := byFormat[string(fm)]
			if !ok {
				continue
			}
			if first == "" {
				first, firstFormat = h, string(fm)
			} else if h != first {
				t.Errorf("job %s hashes differ: %s %s, %s %s", name, firstFormat, first, fm, h)
			}
		}
	}
}

// TestDeterministic checks that a file depends only on the seed and index.
func TestDeterministic(t *testing.T) {
	a := jobgen.Generate(7, 50)
	b := jobgen.GenerateFile(7, 49)
	for _, fm := range jobgen.Formats {
		if string(jobgen.Render(a[49], fm)) != string(jobgen.Render(b, fm)) {
			t.Errorf("%s rendering of file 49 differs between Generate and GenerateFile", fm)
		}
	}
}

// TestDump writes a corpus to $JOBGEN_DUMP for inspection.
func TestDump(t *testing.T) {
	dir := os.Getenv("JOBGEN_DUMP")
	if dir == "" {
		t.Skip("set JOBGEN_DUMP=dir to write a corpus")
	}
	for _, f := range jobgen.Generate(1, 40) {
		for _, fm := range jobgen.Formats {
			if err := os.MkdirAll(filepath.Join(dir, string(fm)), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, string(fm), f.Base+"."+string(fm)), jobgen.Render(f, fm), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

package importer

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/emit"
)

// FuzzImport: no source makes Import panic; every diagnostic names the
// file; every job it returns is valid, and its YAML and JSON compile to
// its hash. The seeds are the golden cases' sources, under each system.
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.txtar")
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, sec := range ar.Files {
			if !strings.HasPrefix(sec.Name, "out/") && sec.Name != "name" {
				for i := range Systems {
					f.Add(uint8(i), sec.Data)
				}
			}
		}
	}
	f.Add(uint8(0), []byte("Tasks: [{Engine: {Type: docker, Params: {Image: x}}}]"))
	f.Fuzz(func(t *testing.T, sys uint8, src []byte) {
		s := Systems[int(sys)%len(Systems)]
		res := Import(s, "f.yaml", src, Options{})
		for _, d := range res.Diags {
			if d.Range.Filename != "f.yaml" {
				t.Fatalf("a diagnostic names no file: %v", d)
			}
		}
		for _, j := range res.Jobs {
			want := j.Spec.Hash()
			for _, format := range []string{"yaml", "json"} {
				out, err := emit.Write(format, []*lang.Value{j.Tree}, emit.Options{Comment: Header(s, "f.yaml")})
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				r := compiler.Compile("job."+format, out, compiler.Format(format), lang.Options{})
				if r.Diags.HasErrors() || len(r.Jobs) != 1 || r.Jobs[0].Spec.Hash() != want {
					t.Fatalf("the %s of an imported job does not compile to its hash %s: %v\n%s", format, want, r.Diags, out)
				}
			}
		}
	})
}

// TestImportFileLimits: an empty file, a file of no job and one too large
// are errors, not panics.
func TestImportFileLimits(t *testing.T) {
	for name, src := range map[string][]byte{
		"empty":  nil,
		"blank":  []byte("\n# nothing\n"),
		"scalar": []byte("42"),
		"large":  []byte(strings.Repeat("#", compiler.MaxFileSize+1)),
		"list":   []byte(`[1, 2]`),
	} {
		res := Import(Bacalhau, name, src, Options{})
		if !res.Diags.HasErrors() || len(res.Jobs) != 0 {
			t.Errorf("%s: %v, %d jobs", name, res.Diags, len(res.Jobs))
		}
	}
	if res := Import("nomad", "x", []byte("{}"), Options{}); !res.Diags.HasErrors() || !strings.Contains(res.Diags.Error(), "bacalhau, expanso or parcel") {
		t.Errorf("unknown system: %v", res.Diags)
	}
}

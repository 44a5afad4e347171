package importer

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/emit"
)

// The golden cases are testdata/*.txtar, one source job file each:
//
//	-- in.yaml --              the source file (any name but name and out/...,
//	                           .yaml or .json); the archive's name starts
//	                           with its system: bacalhau-...
//	-- name --                 optional: the --name option
//	-- out/diagnostics.txt --  every warning and error
//	-- out/job.yaml --         the muster job, as muster import writes it
//	-- out/job.json --         ... with -o json, -o hcl and -o cue
//	-- out/job.hcl --
//	-- out/job.cue --
//	-- out/hash --             sha256:<hex>  <namespace>/<name> per job
//
// Every written format must compile to the job Import validated, with the
// same hash. Regenerate the out/ sections with MUSTER_UPDATE=1 go test
// ./importer/ and read every change.

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 12 {
		t.Fatalf("found %d golden cases", len(files))
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) { runGolden(t, file) })
	}
}

// systemOf is the system a case's file name starts with.
func systemOf(t *testing.T, file string) System {
	t.Helper()
	base := filepath.Base(file)
	for _, s := range Systems {
		if strings.HasPrefix(base, string(s)+"-") {
			return s
		}
	}
	t.Fatalf("%s: the name starts with no system", file)
	return ""
}

func runGolden(t *testing.T, file string) {
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var in string
	var src []byte
	var opts Options
	for _, f := range ar.Files {
		switch {
		case !strings.HasPrefix(f.Name, "out/") && f.Name != "name":
			in, src = f.Name, f.Data
		case f.Name == "name":
			opts.Name = strings.TrimSpace(string(f.Data))
		}
	}
	if in == "" {
		t.Fatal("no section holds the source file")
	}
	sys := systemOf(t, file)
	res := Import(sys, in, src, opts)
	got := map[string]string{"out/diagnostics.txt": diagText(res.Diags)}
	if len(res.Jobs) > 0 {
		outputs(t, sys, in, res, got)
	}
	compare(t, file, ar, got)
}

// diagText is ds, one diagnostic a line.
func diagText(ds lang.Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// outputs writes the jobs of res in every format into got, checking that
// each compiles to the same hashes.
func outputs(t *testing.T, sys System, in string, res Result, got map[string]string) {
	t.Helper()
	var trees []*lang.Value
	var want []string
	for _, j := range res.Jobs {
		trees = append(trees, j.Tree)
		want = append(want, fmt.Sprintf("%s  %s/%s", j.Spec.Hash(), j.Spec.Namespace, j.Spec.Name))
	}
	got["out/hash"] = strings.Join(want, "\n") + "\n"
	for _, format := range emit.Formats {
		out, err := emit.Write(format, trees, emit.Options{Comment: Header(sys, in)})
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		got["out/job."+format] = string(out)
		r := compiler.Compile("job."+format, out, compiler.Format(format), lang.Options{})
		if r.Diags.HasErrors() {
			t.Errorf("the %s output does not compile:\n%v\n%s", format, r.Diags, out)
			continue
		}
		var hashes []string
		for _, j := range r.Jobs {
			hashes = append(hashes, fmt.Sprintf("%s  %s/%s", j.Spec.Hash(), j.Spec.Namespace, j.Spec.Name))
		}
		if strings.Join(hashes, "\n") != strings.Join(want, "\n") {
			t.Errorf("the %s output compiles to %v, the import to %v", format, hashes, want)
		}
	}
}

// compare checks got against the out/ sections of ar, or rewrites them
// with MUSTER_UPDATE set.
func compare(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	if os.Getenv("MUSTER_UPDATE") != "" {
		var files []txtar.File
		for _, f := range ar.Files {
			if !strings.HasPrefix(f.Name, "out/") {
				files = append(files, f)
			}
		}
		for _, name := range []string{"out/diagnostics.txt", "out/job.yaml", "out/job.json", "out/job.hcl", "out/job.cue", "out/hash"} {
			if s, ok := got[name]; ok {
				files = append(files, txtar.File{Name: name, Data: []byte(s)})
			}
		}
		ar.Files = files
		if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	seen := map[string]bool{}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "out/") {
			continue
		}
		seen[f.Name] = true
		if g, ok := got[f.Name]; !ok {
			t.Errorf("%s: nothing was written, the archive holds\n%s", f.Name, f.Data)
		} else if !bytes.Equal([]byte(g), f.Data) {
			t.Errorf("%s:\n--- got\n%s\n--- want\n%s", f.Name, g, f.Data)
		}
	}
	for name := range got {
		if !seen[name] {
			t.Errorf("%s is missing from the archive; got\n%s", name, got[name])
		}
	}
}

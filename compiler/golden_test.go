package compiler

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/lang"
)

// The golden cases live in testdata/valid and testdata/invalid, one txtar
// archive each:
//
//	-- in.yaml --            the job file; its extension picks the format
//	-- vars --               optional: name=value lines, as --var flags
//	-- env --                optional: name=value lines, as MUSTER_VAR_name
//	-- vars.hcl --           optional: a --var-file (also vars.yaml, vars.json)
//	-- out/errors.txt --     every diagnostic, in Diagnostic.Error form
//	-- out/canonical.json -- the canonical bytes of every job that compiled
//	-- out/hash --           `sha256:<hex>  <namespace>/<name>` per job
//
// The out/ sections are what the compiler gives. Regenerate them with
// MUSTER_UPDATE=1 go test ./compiler/ and read every change: positions must
// point at the offending key or value, and every message must say what is
// wrong and how to fix it.
const (
	outErrors    = "out/errors.txt"
	outCanonical = "out/canonical.json"
	outHash      = "out/hash"
)

var outSections = []string{outErrors, outCanonical, outHash}

func TestGolden(t *testing.T) {
	for _, kind := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join("testdata", kind, "*.txtar"))
		if err != nil {
			t.Fatal(err)
		}
		if len(files) == 0 {
			t.Fatalf("no golden cases in testdata/%s", kind)
		}
		for _, file := range files {
			file, err := filepath.Abs(file)
			if err != nil {
				t.Fatal(err)
			}
			name := kind + "/" + strings.TrimSuffix(filepath.Base(file), ".txtar")
			t.Run(name, func(t *testing.T) { runGolden(t, file, kind == "valid") })
		}
	}
}

// goldenCase is one archive, read.
type goldenCase struct {
	ar      *txtar.Archive
	input   string // the name of the job file
	format  Format
	opts    lang.Options
	want    map[string]string
	sources map[string][]byte
}

func readGolden(t *testing.T, file string) *goldenCase {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	c := &goldenCase{ar: ar, want: map[string]string{}, sources: map[string][]byte{}}
	for _, f := range ar.Files {
		switch {
		case strings.HasPrefix(f.Name, "out/"):
			if !slices.Contains(outSections, f.Name) {
				t.Fatalf("unknown output section %q", f.Name)
			}
			c.want[f.Name] = string(f.Data)
		case f.Name == "vars":
			c.opts.Vars = keyValues(t, f.Data)
		case f.Name == "env":
			c.opts.Env = keyValues(t, f.Data)
		case strings.HasPrefix(f.Name, "vars."):
			c.opts.VarFiles = append(c.opts.VarFiles, f.Name)
			c.sources[f.Name] = f.Data
		case strings.HasPrefix(f.Name, "in."):
			if c.input != "" {
				t.Fatalf("two job files, %s and %s", c.input, f.Name)
			}
			format, ok := FormatOf(f.Name)
			if !ok {
				t.Fatalf("%s: unknown format", f.Name)
			}
			c.input, c.format = f.Name, format
			c.sources[f.Name] = f.Data
		default:
			t.Fatalf("unknown section %q", f.Name)
		}
	}
	if c.input == "" {
		t.Fatal("no in.<ext> section")
	}
	return c
}

func keyValues(t *testing.T, data []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("want name=value, got %q", line)
		}
		m[k] = v
	}
	return m
}

// compileGolden compiles the case in a directory of its own that holds its
// files, so that diagnostics name them as the archive does, and checks its
// jobs for duplicates as the command line does.
func compileGolden(t *testing.T, c *goldenCase) Result {
	t.Helper()
	dir := t.TempDir()
	for name, data := range c.sources {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	res := []Result{CompileFile(c.input, "", c.opts)}
	CheckDuplicates(res)
	return res[0]
}

func runGolden(t *testing.T, file string, valid bool) {
	c := readGolden(t, file)
	if parsers[c.format] == nil {
		t.Skipf("the %s frontend is not registered yet", c.format)
	}
	res := compileGolden(t, c)
	got := goldenOutputs(res)
	checkDiagnostics(t, c, res)

	if valid && got[outErrors] != "" {
		t.Errorf("a valid case must compile without diagnostics, got:\n%s", got[outErrors])
	}
	if !valid && got[outErrors] == "" {
		t.Errorf("an invalid case must give at least one error")
	}
	if updating() {
		writeGolden(t, file, c.ar, got)
		return
	}
	for _, name := range outSections {
		want, ok := c.want[name]
		switch {
		case !ok && got[name] != "":
			t.Errorf("unexpected %s (regenerate with MUSTER_UPDATE=1):\n%s", name, got[name])
		case ok && want != got[name]:
			t.Errorf("%s differs (regenerate with MUSTER_UPDATE=1 and review):\ngot:\n%swant:\n%s", name, got[name], want)
		}
	}
}

// goldenOutputs renders what the compiler gave as the out/ sections; a
// section is empty when there is nothing to show.
func goldenOutputs(res Result) map[string]string {
	var errs, canon, hashes strings.Builder
	for _, d := range res.Diags {
		errs.WriteString(d.Error())
		errs.WriteByte('\n')
	}
	for _, j := range res.Jobs {
		canon.Write(j.Spec.Canonical())
		canon.WriteByte('\n')
		fmt.Fprintf(&hashes, "%s  %s/%s\n", j.Spec.Hash(), j.Spec.Namespace, j.Spec.Name)
	}
	return map[string]string{outErrors: errs.String(), outCanonical: canon.String(), outHash: hashes.String()}
}

// checkDiagnostics holds every diagnostic to docs/spec.md section 2: it names a
// file of the case and a line and column inside that file.
func checkDiagnostics(t *testing.T, c *goldenCase, res Result) {
	t.Helper()
	for _, d := range res.Diags {
		if d.Range.IsZero() && (strings.Contains(d.Message, "--var") || strings.Contains(d.Message, "MUSTER_VAR_")) {
			continue // about a variable given on the command line, which has no position
		}
		src, ok := c.sources[d.Range.Filename]
		if !ok {
			t.Errorf("diagnostic names no file of the case: %s", d.Error())
			continue
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		if d.Range.Start.Line < 1 || d.Range.Start.Column < 1 || d.Range.Start.Line > lines {
			t.Errorf("diagnostic has no position inside %s (%d lines): %s", d.Range.Filename, lines, d.Error())
		}
		if d.Message == "" {
			t.Errorf("diagnostic without a message: %s", d.Error())
		}
	}
}

func writeGolden(t *testing.T, file string, ar *txtar.Archive, got map[string]string) {
	t.Helper()
	out := &txtar.Archive{Comment: ar.Comment}
	for _, f := range ar.Files {
		if !strings.HasPrefix(f.Name, "out/") {
			out.Files = append(out.Files, f)
		}
	}
	for _, name := range outSections {
		if got[name] != "" {
			out.Files = append(out.Files, txtar.File{Name: name, Data: []byte(got[name])})
		}
	}
	if err := os.WriteFile(file, txtar.Format(out), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameJobGroups lists valid cases that write the same job in different
// formats or spellings: their out/hash sections must be equal.
var sameJobGroups = [][]string{
	{"yaml-minimal", "yaml-defaults-spelled-out", "yaml-nulls-are-unset", "json-minimal", "hcl-minimal", "cue-minimal", "cue-defaults-spelled-out"},
	{"yaml-number-forms", "json-number-forms", "hcl-number-forms", "cue-number-forms"},
	{"yaml-tag-twin", "cue-tag-hidden", "cue-tag-regular", "cue-tag-nested", "cue-tag-default", "cue-tag-int", "cue-tag-bool"},
}

func TestGoldenSameJob(t *testing.T) {
	for _, group := range sameJobGroups {
		var first, firstHash string
		for _, name := range group {
			ar, err := txtar.ParseFile(filepath.Join("testdata", "valid", name+".txtar"))
			if err != nil {
				t.Fatal(err)
			}
			var hash string
			for _, f := range ar.Files {
				if f.Name == outHash {
					hash = string(f.Data)
				}
			}
			if hash == "" {
				t.Errorf("%s has no %s section", name, outHash)
				continue
			}
			if first == "" {
				first, firstHash = name, hash
				continue
			}
			if hash != firstHash {
				t.Errorf("%s and %s write the same job but hash differently:\n%s%s", first, name, firstHash, hash)
			}
		}
	}
}

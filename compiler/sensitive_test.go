package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/sensitive"
)

// TestSensitivePaths runs the cases of testdata/sensitive, one txtar
// archive each:
//
//	-- in.hcl --         the job file
//	-- vars --           name=value lines, as --var flags
//	-- secrets --        texts that no output may show, one a line
//	-- out/paths --      the sensitive paths of every job, one a line
//	-- out/warnings --   every diagnostic, in Diagnostic.Error form
//
// For every job, the canonical spec with its sensitive paths hidden, the
// values at those paths redacted from a message that quotes them all, and
// every diagnostic must hold none of the secrets. Regenerate the out/
// sections with MUSTER_UPDATE=1 and read every change.
func TestSensitivePaths(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "sensitive", "*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var src []byte
			var secrets []string
			want := map[string]string{}
			opts := lang.Options{}
			for _, f := range ar.Files {
				switch {
				case f.Name == "in.hcl":
					src = f.Data
				case f.Name == "vars":
					opts.Vars = keyValues(t, f.Data)
				case f.Name == "secrets":
					secrets = strings.Fields(string(f.Data))
				case strings.HasPrefix(f.Name, "out/"):
					want[f.Name] = string(f.Data)
				default:
					t.Fatalf("unknown section %q", f.Name)
				}
			}
			if len(secrets) == 0 {
				t.Fatal("a case needs secrets")
			}
			res := Compile("in.hcl", src, HCL, opts)
			var paths, warnings strings.Builder
			for _, d := range res.Diags {
				warnings.WriteString(d.Error() + "\n")
				if d.Severity != lang.Warning {
					t.Errorf("an error: %s", d.Error())
				}
			}
			if len(res.Jobs) == 0 {
				t.Fatal("no job compiled")
			}
			var shown []string
			for _, j := range res.Jobs {
				for _, p := range j.Sensitive {
					paths.WriteString(p + "\n")
				}
				hidden, _, err := sensitive.Hide(j.Spec.Canonical(), j.Sensitive)
				if err != nil {
					t.Fatal(err)
				}
				values, err := sensitive.Values(j.Spec.Canonical(), j.Sensitive)
				if err != nil {
					t.Fatal(err)
				}
				shown = append(shown, string(hidden), sensitive.Redact("failed: "+strings.Join(values, " and "), values))
			}
			shown = append(shown, warnings.String())
			for _, out := range shown {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Errorf("%q shows in:\n%s", s, out)
					}
				}
			}
			got := map[string]string{"out/paths": paths.String(), "out/warnings": warnings.String()}
			if updating() {
				for i := range ar.Files {
					if g, ok := got[ar.Files[i].Name]; ok {
						ar.Files[i].Data = []byte(g)
						delete(got, ar.Files[i].Name)
					}
				}
				for _, name := range []string{"out/paths", "out/warnings"} {
					if g, ok := got[name]; ok {
						ar.Files = append(ar.Files, txtar.File{Name: name, Data: []byte(g)})
					}
				}
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for name, g := range got {
				if want[name] != g {
					t.Errorf("%s differs (regenerate with MUSTER_UPDATE=1 and review):\ngot:\n%swant:\n%s", name, g, want[name])
				}
			}
		})
	}
}

package compiler

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/muster-dev/muster/internal/gendocs"
)

// specDoc is the contract in the repository, numbered as SPEC.md.
const specDoc = "../docs/spec.md"

// TestSpecDocFields holds the field table of docs/spec.md section 2 to the
// reference generated from schema.Fields (docs/jobspec.md): every field
// that is not an object has a row there, with the same type and default,
// and no row names a field that does not exist.
func TestSpecDocFields(t *testing.T) {
	b, err := os.ReadFile(specDoc)
	if err != nil {
		t.Fatal(err)
	}
	section := between(t, string(b), "\n## 2. ", "\n## 3. ")
	doc := fieldRows(section)
	ref := fieldRows(string(gendocs.Reference()))
	if len(ref) == 0 {
		t.Fatal("no field rows in the generated reference")
	}
	link := regexp.MustCompile(`^\[(.*)\]\(#[^)]*\)$`)
	for path, want := range ref {
		want.typ = link.ReplaceAllString(want.typ, "$1")
		if want.typ == "object" {
			continue
		}
		got, ok := doc[path]
		switch {
		case !ok:
			t.Errorf("docs/spec.md section 2 has no row for %s", path)
		case got != want:
			t.Errorf("docs/spec.md section 2 says %s is %s with default %s; the reference says %s with default %s",
				path, got.typ, got.def, want.typ, want.def)
		}
	}
	for path := range doc {
		if _, ok := ref[path]; !ok {
			t.Errorf("docs/spec.md section 2 has a row for %s, which is no field of a job", path)
		}
	}
}

// fieldRow is the type and default cells of a field's table row.
type fieldRow struct{ typ, def string }

// fieldRows reads the table rows of md whose first cell is a field path in
// backquotes.
func fieldRows(md string) map[string]fieldRow {
	rows := map[string]fieldRow{}
	for _, line := range strings.Split(md, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 3 {
			continue
		}
		path := strings.Trim(strings.TrimSpace(cells[0]), "`")
		rows[path] = fieldRow{typ: strings.TrimSpace(cells[1]), def: strings.TrimSpace(cells[2])}
	}
	return rows
}

// between returns the part of s from the line that starts with from up to
// the one that starts with to.
func between(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, from)
	j := strings.Index(s, to)
	if i < 0 || j < i {
		t.Fatalf("no section between %q and %q", from, to)
	}
	return s[i:j]
}

package compiler

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
)

// TestCheckDuplicates compiles files as one command line would and checks
// which jobs CheckDuplicates reports, where, and which it keeps.
func TestCheckDuplicates(t *testing.T) {
	compile := func(files ...string) []Result {
		var rs []Result
		for i := 0; i+1 < len(files); i += 2 {
			f, _ := FormatOf(files[i])
			rs = append(rs, Compile(files[i], []byte(files[i+1]), f, lang.Options{}))
		}
		CheckDuplicates(rs)
		return rs
	}
	text := func(rs []Result) (diags string, jobs int) {
		var b strings.Builder
		for _, r := range rs {
			jobs += len(r.Jobs)
			for _, d := range r.Diags {
				b.WriteString(d.Error() + "\n")
			}
		}
		return b.String(), jobs
	}
	web := "name: web\ntask: {engine: exec, cmd: [a]}\n"
	webB := `{"name": "web", "task": {"engine": "exec", "cmd": ["b"]}}`
	tests := []struct {
		name  string
		files []string
		want  string
		jobs  int
	}{
		{"different definitions in two files", []string{"a.yaml", web, "b.json", webB},
			"a.yaml:1:1: error: job default/web is defined differently, here and at b.json:1:1: one namespace and name is one job; keep one definition (name)\n" +
				"b.json:1:1: error: job default/web is defined differently, here and at a.yaml:1:1: one namespace and name is one job; keep one definition (name)\n", 0},
		{"three places name the other two", []string{"a.yaml", web, "b.json", webB, "c.yaml", "# c\n" + web},
			"a.yaml:1:1: error: job default/web is defined differently, here and at b.json:1:1, c.yaml:2:1",
			0},
		{"identical copies in two files are one job", []string{"a.yaml", web, "b.json", `{"name":"web","task":{"engine":"exec","cmd":["a"]}}`}, "", 2},
		{"identical copies in one file are not", []string{"a.yaml", web + "---\n" + web},
			"a.yaml:1:1: error: job default/web is defined twice, here and at a.yaml:4:1", 0},
		{"another namespace is another job", []string{"a.yaml", web, "b.yaml", "namespace: dev\n" + web}, "", 2},
		{"other jobs of the files stay", []string{"a.yaml", web + "---\nname: api\ntask: {engine: exec, cmd: [a]}\n", "b.json", webB}, "b.json:1:1: error", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, jobs := text(compile(tt.files...))
			if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", got, tt.want)
			}
			if jobs != tt.jobs {
				t.Errorf("%d jobs kept, want %d", jobs, tt.jobs)
			}
		})
	}
}

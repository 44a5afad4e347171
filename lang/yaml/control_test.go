package yaml_test

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
)

// TestControlCharacterPosition: a raw control character, which YAML does
// not allow, is reported at its own line and column (it was 1:1), after
// multibyte characters and CR LF line ends alike, and through the fast path
// and yaml.v4 alike.
func TestControlCharacterPosition(t *testing.T) {
	tests := []struct {
		src       string
		line, col int
		value     string
	}{
		{"name: c\n\x00task:\n  engine: exec\n", 2, 1, "value: 0"},
		{"name: b\ntask:\n  engine: exec\n  cmd: [ab\x00c]\n", 4, 11, "value: 0"},
		{"name: \"é\x00\"\n", 1, 9, "value: 0"},
		{"name: a\r\ntask:\r\n  cmd: [x\x07]\r\n", 3, 10, "value: 7"},
		{"name: a\rdescription: \"\x1b[31m\"\r", 2, 15, "value: 27"},
		{"name: a\n---\nname: b\ndescription: x\x00\n", 4, 15, "value: 0"},
		{"\x00", 1, 1, "value: 0"},
	}
	for _, fast := range []bool{true, false} {
		yaml.SetFast(fast)
		for _, tt := range tests {
			_, diags := yaml.Parse("c.yaml", []byte(tt.src), lang.Options{})
			if len(diags) != 1 {
				t.Errorf("fast=%v %q: want one diagnostic, got %v", fast, tt.src, diags)
				continue
			}
			d := diags[0]
			if d.Range.Start.Line != tt.line || d.Range.Start.Column != tt.col || !strings.Contains(d.Message, tt.value) {
				t.Errorf("fast=%v %q: got %s, want c.yaml:%d:%d and %q", fast, tt.src, d.Error(), tt.line, tt.col, tt.value)
			}
		}
	}
	yaml.SetFast(true)
}

package schema

import (
	"math"
	"testing"
)

func TestAppendNumber(t *testing.T) {
	// Expected strings are ECMAScript's Number.prototype.toString, as RFC 8785
	// requires (see its appendix B).
	tests := []struct {
		f    float64
		want string
	}{
		{0, "0"},
		{math.Copysign(0, -1), "0"},
		{1, "1"},
		{0.5, "0.5"},
		{0.1, "0.1"},
		{10, "10"},
		{1024, "1024"},
		{-3.25, "-3.25"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{1e-6, "0.000001"},
		{1e-7, "1e-7"},
		{1.5e-7, "1.5e-7"},
		{123456789012345680000, "123456789012345680000"},
		{9007199254740992, "9007199254740992"},
		{5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{0.000001234, "0.000001234"},
	}
	for _, tt := range tests {
		if got := string(appendNumber(nil, tt.f)); got != tt.want {
			t.Errorf("appendNumber(%v) = %s, want %s", tt.f, got, tt.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"<>&", `"<>&"`},
		{"€ \u2028", "\"€ \u2028\""},
		{"\x7f", "\"\x7f\""},
	}
	for _, tt := range tests {
		if got := string(appendString(nil, tt.in)); got != tt.want {
			t.Errorf("appendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestObjectKeyOrder(t *testing.T) {
	// RFC 8785 sorts by UTF-16 code units: U+FB33 (one unit, 0xFB33) sorts
	// after U+1F600 (surrogates 0xD83D 0xDE00), unlike a UTF-8 byte sort.
	m := map[string]string{"\uFB33": "a", "\U0001F600": "b", "a": "c", "B": "d", "": "e"}
	got := string(AppendJCS(nil, m))
	want := `{"":"e","B":"d","a":"c","` + "\U0001F600" + `":"b","` + "\uFB33" + `":"a"}`
	if got != want {
		t.Errorf("AppendJCS = %s, want %s", got, want)
	}
}

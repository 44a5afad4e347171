package cli

import (
	"strings"
	"testing"
)

func TestParseSelector(t *testing.T) {
	labels := map[string]string{"tier": "web", "zone": "a", "team": "pay"}
	for _, tc := range []struct {
		sel     string
		n       int
		match   bool
		errPart string
	}{
		{"", 0, true, ""},
		{"tier=web", 1, true, ""},
		{"tier==web,zone!=b", 2, true, ""},
		{"zone in (a, b),team notin (ops,dev)", 2, true, ""},
		{" zone in (b,c) ", 1, false, ""},
		{"tier,!gpu", 2, true, ""},
		{"!tier", 1, false, ""},
		{"tier=web,gpu", 2, false, ""},
		{"tier=web,", 0, false, "empty expression"},
		{"zone in (a,b", 0, false, "parentheses"},
		{"tier>1", 0, false, "unsupported operator"},
		{"Bad Key=x", 0, false, "invalid label key"},
	} {
		reqs, err := parseSelector(tc.sel)
		if tc.errPart != "" {
			if err == nil || !strings.Contains(err.Error(), tc.errPart) || !strings.HasPrefix(err.Error(), "-l: ") {
				t.Errorf("parseSelector(%q) error = %v, want one starting -l: with %q", tc.sel, err, tc.errPart)
			}
			continue
		}
		if err != nil || len(reqs) != tc.n {
			t.Errorf("parseSelector(%q) = %d requirements, %v; want %d", tc.sel, len(reqs), err, tc.n)
			continue
		}
		if got := matchAll(reqs, labels); got != tc.match {
			t.Errorf("%q matches %v = %v, want %v", tc.sel, labels, got, tc.match)
		}
	}
}

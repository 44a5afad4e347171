package selector

import (
	"strings"
	"testing"
)

func TestCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"region=eu", "region=eu"},
		{"region == eu", "region=eu"},
		{" region==eu ", "region=eu"},
		{"region != eu", "region!=eu"},
		{"region in (us-west, us-east,us-east)", "region in (us-east,us-west)"},
		{"region   notin   ( b ,a )", "region notin (a,b)"},
		{"gpu", "gpu"},
		{"! gpu", "!gpu"},
		{"!gpu", "!gpu"},
		{"example.com/tier=web", "example.com/tier=web"},
		{"tier=", "tier="},
		{"in in (a)", "in in (a)"},
		{"notin notin (a)", "notin notin (a)"},
	}
	for _, tt := range tests {
		got, err := Canonical(tt.in)
		if err != nil {
			t.Errorf("Canonical(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Canonical(%q) = %q, want %q", tt.in, got, tt.want)
		}
		again, err := Canonical(got)
		if err != nil || again != got {
			t.Errorf("Canonical(%q) is not idempotent: %q, %v", got, again, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty expression"},
		{"   ", "empty expression"},
		{"region in ()", "set of values is empty"},
		{"region in (a,,b)", "empty value"},
		{"region in a,b", "parentheses"},
		{"region ~ eu", "want an operator"},
		{"region = e u", "invalid label value"},
		{"-region=eu", "must start and end"},
		{"Example.com/x=1", "prefix must be a lowercase DNS subdomain"},
		{"a!b", "'!' must be followed by '='"},
		{"region in (a", "parentheses"},
		{strings.Repeat("k", 64), "at most 63"},
		{"!", "name part is empty"},
		{"zone >= 3", "unsupported operator"},
		{"zone<3", "unsupported operator"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %v, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestMatches(t *testing.T) {
	node := map[string]string{"region": "eu", "gpu": "", "tier": "web"}
	bare := map[string]string{}
	tests := []struct {
		expr       string
		node, bare bool
	}{
		{"region=eu", true, false},
		{"region=us", false, false},
		{"region!=us", true, true}, // != matches nodes that lack the key
		{"region!=eu", false, true},
		{"region in (eu,us)", true, false},
		{"region notin (us)", true, true}, // notin matches nodes that lack the key
		{"region notin (eu)", false, true},
		{"gpu", true, false},
		{"!gpu", false, true},
		{"gpu=", true, false},
		{"gpu!=", false, true},
	}
	for _, tt := range tests {
		r, err := Parse(tt.expr)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.expr, err)
		}
		if got := r.Matches(node); got != tt.node {
			t.Errorf("%q on labelled node = %v, want %v", tt.expr, got, tt.node)
		}
		if got := r.Matches(bare); got != tt.bare {
			t.Errorf("%q on unlabelled node = %v, want %v", tt.expr, got, tt.bare)
		}
		if got := r.MatchesAbsent(); got != (r.Op == NotEquals || r.Op == NotIn) {
			t.Errorf("%q MatchesAbsent = %v", tt.expr, got)
		}
	}
}

func TestValidateKey(t *testing.T) {
	good := []string{"a", "app.kubernetes.io/name", "A_b-c.d", strings.Repeat("x", 63), "x.y/" + strings.Repeat("z", 63)}
	bad := []string{"", "/a", "a/", "-a", "a-", "a b", strings.Repeat("x", 64), "UPPER.com/a", "a..b/c", "é"}
	for _, k := range good {
		if err := ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	for _, k := range bad {
		if err := ValidateKey(k); err == nil {
			t.Errorf("ValidateKey(%q) = nil, want an error", k)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"a=b", "a in (x,y)", "!a", "a notin (b)", "a!=b", "x.io/y==z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			return
		}
		c := r.String()
		r2, err := Parse(c)
		if err != nil {
			t.Fatalf("canonical form %q of %q does not parse: %v", c, s, err)
		}
		if r2.String() != c {
			t.Fatalf("canonical form is not stable: %q -> %q", c, r2.String())
		}
	})
}

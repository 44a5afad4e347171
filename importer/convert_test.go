package importer

import (
	"strings"
	"testing"
)

func TestDNSLabel(t *testing.T) {
	for in, want := range map[string]string{
		"Docker Job":                   "docker-job",
		"web":                          "web",
		"--A__b..c--":                  "a-b-c",
		"Ünïcode job":                  "n-code-job",
		"!!!":                          "",
		strings.Repeat("a", 70):        strings.Repeat("a", 63),
		strings.Repeat("a", 62) + " b": strings.Repeat("a", 62),
	} {
		if got := dnsLabel(in); got != want {
			t.Errorf("dnsLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]string{
		"512Mi": "512M", "1Gi": "1G", "2GiB": "2G", "1Gb": "954M", "256Mb": "245M", "1048576": "1M",
		"1.5Gi": "1536M", "64 MiB": "64M", "4Ki": "1M", "1,024Mi": "1G",
	} {
		b, err := parseBytes(in)
		if err != nil {
			t.Errorf("parseBytes(%q): %v", in, err)
			continue
		}
		if got, _ := memoryOf(b); got != want {
			t.Errorf("%q is %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"lots", "", "1Qb", "-1Gi", "1e3"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q): no error", bad)
		}
	}
	if _, exact := memoryOf(512 << 20); !exact {
		t.Error("512Mi is exact")
	}
	if _, exact := memoryOf(1e9); exact {
		t.Error("1e9 bytes is not a whole number of MiB")
	}
}

func TestCPUs(t *testing.T) {
	for in, want := range map[string]float64{"2": 2, "0.5": 0.5, "500m": 0.5, " 250m ": 0.25} {
		if got, err := cpusOf(in); err != nil || got != want {
			t.Errorf("cpusOf(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "m", "two", "Inf"} {
		if _, err := cpusOf(bad); err == nil {
			t.Errorf("cpusOf(%q): no error", bad)
		}
	}
}

func TestSelectorExpr(t *testing.T) {
	good := []struct {
		key, op string
		values  []string
		want    string
	}{
		{"region", "in", []string{"a", "b"}, "region in (a,b)"},
		{"region", "NotIn", []string{"a"}, "region notin (a)"},
		{"gpu", "exists", nil, "gpu"},
		{"gpu", "!", nil, "!gpu"},
		{"gpu", "DoesNotExist", nil, "!gpu"},
		{"arch", "=", []string{"arm64"}, "arch=arm64"},
		{"arch", "==", []string{"arm64"}, "arch=arm64"},
		{"arch", "!=", []string{"arm64"}, "arch!=arm64"},
	}
	for _, g := range good {
		if got, err := selectorExpr(g.key, g.op, g.values); err != nil || got != g.want {
			t.Errorf("%s %s %v = %q, %v; want %q", g.key, g.op, g.values, got, err, g.want)
		}
	}
	bad := []struct {
		op     string
		values []string
	}{{"gt", []string{"3"}}, {"lt", []string{"3"}}, {"in", nil}, {"=", []string{"a", "b"}}, {"exists", []string{"a"}},
		{"in", []string{"a,b"}}, {"in", []string{"a b"}}, {"like", []string{"a"}}}
	for _, b := range bad {
		if got, err := selectorExpr("k", b.op, b.values); err == nil {
			t.Errorf("%s %v = %q, want an error", b.op, b.values, got)
		}
	}
}

func TestSplitSelector(t *testing.T) {
	for in, want := range map[string]string{
		"env=prod,zone in (a,b)": "env=prod|zone in (a,b)",
		" a , !b ":               "a|!b",
		"x notin (1,2),y":        "x notin (1,2)|y",
		"":                       "",
		"a,":                     "a|",
	} {
		if got := strings.Join(splitSelector(in), "|"); got != want {
			t.Errorf("splitSelector(%q) = %q, want %q", in, got, want)
		}
	}
}

package importer

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

// dnsLabel turns s into a job name or namespace: lower case, every run of
// other characters than letters and digits a dash, at most 63. It returns
// "" when nothing is left.
func dnsLabel(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	out := b.String()
	if len(out) > 63 {
		out = strings.TrimRight(out[:63], "-")
	}
	return out
}

// byteUnits are the units of sizes as Bacalhau reads them (go-humanize's
// ParseBytes): a bare letter or "B" suffix is decimal, an "i" binary.
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
}

var sizeRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([A-Za-z]*)$`)

// parseBytes reads a size such as "512Mb", "1.5GB", "2Gi" or "1073741824".
func parseBytes(s string) (float64, error) {
	m := sizeRE.FindStringSubmatch(strings.ReplaceAll(strings.TrimSpace(s), ",", ""))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size such as 512Mb, 2GB or 1Gi", s)
	}
	unit, ok := byteUnits[strings.ToLower(m[2])]
	if !ok {
		return 0, fmt.Errorf("%q has an unknown unit %q: use Kb, Mb, Gb, Tb or Ki, Mi, Gi, Ti", s, m[2])
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a size: %v", s, err)
	}
	return n * unit, nil
}

// memoryOf writes bytes as a muster memory size, in gibibytes when whole,
// else in mebibytes rounded up. exact is false when it was rounded.
func memoryOf(bytes float64) (size string, exact bool) {
	const mib, gib = 1 << 20, 1 << 30
	if bytes >= gib && math.Mod(bytes, gib) == 0 {
		return strconv.FormatFloat(bytes/gib, 'f', 0, 64) + "G", true
	}
	m := math.Ceil(bytes / mib)
	return strconv.FormatFloat(m, 'f', 0, 64) + "M", m*mib == bytes
}

// cpusOf reads a cpu count as Kubernetes writes it: "2", "0.5" or "500m".
func cpusOf(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "m"); ok {
		s, scale = t, 1000
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%q is not a cpu count such as 2, 0.5 or 500m", s)
	}
	return f / scale, nil
}

// seconds writes n seconds as a Go duration string ("1h0m0s").
func seconds(n float64) string { return time.Duration(n * float64(time.Second)).String() }

// memoryRE is a size muster takes as it is written.
var memoryRE = regexp.MustCompile(schema.MemoryPattern)

// labelValueRE is a valid label value, and so a valid selector value.
var labelValueRE = regexp.MustCompile(schema.LabelValuePattern)

// selectorExpr writes a Kubernetes-style requirement (key, operator,
// values), as Bacalhau's constraints and Expanso's selectors hold them, as
// a muster match expression. Numeric comparisons have no muster
// equivalent: dropping one would place the job on nodes it excludes, so
// they are an error, as is a value that is not a label value (a comma in
// one would read as two values).
func selectorExpr(key, op string, values []string) (string, error) {
	for _, v := range values {
		if !labelValueRE.MatchString(v) {
			return "", fmt.Errorf("value %q is not a label value (letters, digits, '-', '_' and '.'): write each value as its own entry", v)
		}
	}
	one := func(sep string) (string, error) {
		if len(values) != 1 {
			return "", fmt.Errorf("operator %q takes exactly one value, not %d", op, len(values))
		}
		return key + sep + values[0], nil
	}
	none := func(prefix string) (string, error) {
		if len(values) != 0 {
			return "", fmt.Errorf("operator %q takes no values, not %d", op, len(values))
		}
		return prefix + key, nil
	}
	set := func(word string) (string, error) {
		if len(values) == 0 {
			return "", fmt.Errorf("operator %q needs at least one value", op)
		}
		return key + " " + word + " (" + strings.Join(values, ",") + ")", nil
	}
	switch strings.ToLower(strings.TrimSpace(op)) {
	case "=", "==", "equals":
		return one("=")
	case "!=", "notequals":
		return one("!=")
	case "in":
		return set("in")
	case "notin":
		return set("notin")
	case "exists":
		return none("")
	case "!", "doesnotexist":
		return none("!")
	case "gt", "lt", ">", "<":
		return "", fmt.Errorf("operator %q compares numbers, which muster selectors do not: the job would run on nodes it excludes", op)
	}
	return "", fmt.Errorf("unknown operator %q: want in, notin, exists, !, =, == or !=", op)
}

// durationOf reads a duration written as a Go duration string ("5m"), or
// as a whole number of unit.
func (c *conv) durationOf(v *lang.Value, path string, unit time.Duration) (time.Duration, bool) {
	if v.Kind == lang.String {
		if d, err := time.ParseDuration(strings.TrimSpace(v.Str)); err == nil && d >= 0 {
			return d, true
		}
		if _, err := strconv.ParseInt(strings.TrimSpace(v.Str), 10, 64); err != nil {
			c.errorf(v.Range, path, "%q is not a duration such as 90s or 5m", v.Str)
			return 0, false
		}
	}
	n, ok := c.integer(v, path)
	if !ok {
		return 0, false
	}
	if n < 0 || time.Duration(n) > math.MaxInt64/unit {
		c.errorf(v.Range, path, "duration %d is out of range", n)
		return 0, false
	}
	return time.Duration(n) * unit, true
}

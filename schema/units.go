package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a non-negative time span. It prints as Go's
// time.Duration.String ("1m30s", "0s") and parses from a Go duration string
// or an integer number of seconds.
type Duration time.Duration

// String formats d like time.Duration.String.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON encodes d as its canonical string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON accepts a duration string or integer seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] != '"' {
		s = string(b)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("duration %s: want a string such as \"90s\" or whole seconds", s)
		}
		v, err := DurationFromSeconds(n)
		*d = v
		return err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	*d = v
	return err
}

// durationSyntax matches what time.ParseDuration reads, so that a
// well-formed duration it refuses is known to be too long.
var durationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

// maxSeconds is the largest whole number of seconds a Duration holds.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// DurationFromSeconds converts whole seconds, rejecting negative or
// overflowing values.
func DurationFromSeconds(n int64) (Duration, error) {
	if n < 0 {
		return 0, errors.New("must not be negative")
	}
	if n > maxSeconds {
		return 0, fmt.Errorf("%d seconds is too long (at most %d)", n, maxSeconds)
	}
	return Duration(time.Duration(n) * time.Second), nil
}

// ParseDuration reads a Go duration string ("90s", "1h30m") or a string of
// whole seconds ("90"). Negative durations are errors.
func ParseDuration(s string) (Duration, error) {
	if s == "" {
		return 0, errors.New(`empty duration: want a Go duration such as "90s" or "1h30m"`)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return DurationFromSeconds(n)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		if durationSyntax.MatchString(s) {
			return 0, fmt.Errorf("duration %q is too long (at most %s)", s, time.Duration(math.MaxInt64).Truncate(time.Hour))
		}
		return 0, fmt.Errorf("invalid duration %q: want a Go duration such as \"90s\" or \"1h30m\", or whole seconds", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: must not be negative", s)
	}
	return Duration(d), nil
}

// Memory is an amount of memory in MiB. It prints in the largest exact
// binary unit: "512M", "1G", "1536M".
type Memory int64

// MinMemory is the smallest memory limit a task may ask for.
const MinMemory Memory = 4

// maxMemory bounds Memory so that byte counts fit in an int64.
const maxMemory Memory = math.MaxInt64 >> 20

// Bytes returns m in bytes.
func (m Memory) Bytes() int64 { return int64(m) << 20 }

// String formats m canonically: G when a whole number of GiB, else M.
func (m Memory) String() string {
	if m != 0 && m%1024 == 0 {
		return strconv.FormatInt(int64(m/1024), 10) + "G"
	}
	return strconv.FormatInt(int64(m), 10) + "M"
}

// MarshalJSON encodes m as its canonical string.
func (m Memory) MarshalJSON() ([]byte, error) { return json.Marshal(m.String()) }

// UnmarshalJSON decodes a memory string.
func (m *Memory) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("memory: want a string such as \"512M\" or \"2G\"")
	}
	v, err := ParseMemory(s)
	*m = v
	return err
}

// ParseMemory reads `<n>M`, `<n>G`, `<n>Mi` or `<n>Gi` (all binary units) with
// a whole number n. It does not enforce MinMemory.
func ParseMemory(s string) (Memory, error) {
	num, unit := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			num, unit = s[:i], s[i:]
			break
		}
	}
	var shift uint
	switch unit {
	case "M", "Mi":
	case "G", "Gi":
		shift = 10
	default:
		return 0, fmt.Errorf("invalid memory %q: want a whole number with a unit M, G, Mi or Gi, such as \"512M\" or \"2G\"", s)
	}
	if num == "" {
		return 0, fmt.Errorf("invalid memory %q: the number is missing, as in \"512M\"", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || Memory(n) > maxMemory>>shift {
		return 0, fmt.Errorf("memory %q is too large", s)
	}
	return Memory(n << shift), nil
}

// decimal is the plain decimal notation cpus strings may use.
var decimal = regexp.MustCompile(`^([0-9]+(\.[0-9]*)?|\.[0-9]+)$`)

// ParseCPUs reads a cpu count written as a string: a decimal number ("0.5",
// "2") or millicores ("500m"). It does not check bounds.
func ParseCPUs(s string) (float64, error) {
	bad := fmt.Errorf("invalid cpus %q: want a number such as 0.5 or 2, or millicores such as \"500m\"", s)
	if m, ok := strings.CutSuffix(s, "m"); ok {
		n, err := strconv.ParseUint(m, 10, 32)
		if err != nil || m == "" || m[0] == '+' {
			return 0, bad
		}
		return float64(n) / 1000, nil
	}
	if !decimal.MatchString(s) {
		return 0, bad
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, bad
	}
	return f, nil
}

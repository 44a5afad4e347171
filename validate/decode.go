package validate

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

// maxSafeInt is 2^53: larger integers do not survive a trip through the
// JSON numbers of most tools, so the spec rejects them.
const maxSafeInt = 1 << 53

// decoder collects the diagnostics of one job.
type decoder struct {
	diags lang.Diagnostics
	// namespace is the job's namespace once read, "" when it is invalid.
	namespace string
	// jobType is the job's type once read; typeKnown is false when it is
	// invalid.
	jobType   schema.JobType
	typeKnown bool
	// jobTask is the job's task once read, for the rules of the rollout that
	// depend on it; engineKnown says whether its engine is valid, portsOK
	// whether its ports hold no error.
	jobTask     *schema.Task
	engineKnown bool
	portsOK     bool
}

func (d *decoder) errorf(r lang.Range, path, format string, args ...any) {
	d.diags.Add(r, path, format, args...)
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// present reports whether v holds a value: absent fields and nulls are unset.
func present(v *lang.Value) bool { return v != nil && v.Kind != lang.Null }

// fields checks that v is a map whose keys are all in known and appear once,
// and returns its entries by key. Unknown keys get a "did you mean".
func (d *decoder) fields(v *lang.Value, path string, known []string) (map[string]*lang.Field, bool) {
	if v.Kind != lang.Map {
		d.errorf(v.Range, path, "%s must be a map of fields, not %s", name(path), v.Describe())
		return nil, false
	}
	out := make(map[string]*lang.Field, len(v.Fields))
	for _, f := range v.Fields {
		fpath := keyPath(path, f.Key)
		if prev, dup := out[f.Key]; dup {
			d.errorf(f.KeyRange, fpath, "duplicate field %q (first set at line %d)", f.Key, prev.KeyRange.Start.Line)
			continue
		}
		if !contains(known, f.Key) {
			d.unknown(f, path, known)
			out[f.Key] = f // remember it for duplicate detection only
			continue
		}
		out[f.Key] = f
	}
	for k := range out {
		if !contains(known, k) {
			delete(out, k)
		}
	}
	return out, true
}

func (d *decoder) unknown(f *lang.Field, path string, known []string) {
	fpath := keyPath(path, f.Key)
	if s := suggest(f.Key, known); s != "" {
		d.errorf(f.KeyRange, fpath, "unknown field %q; did you mean %q?", f.Key, s)
		return
	}
	if home := elsewhere(f.Key, path); home != "" {
		if home == f.Key {
			d.errorf(f.KeyRange, fpath, "unknown field %q here; it belongs at the top level of the job", f.Key)
		} else {
			d.errorf(f.KeyRange, fpath, "unknown field %q here; it belongs in %s", f.Key, home)
		}
		return
	}
	where := "in " + name(path)
	if path == "" {
		where = "at the top level of a job"
	}
	d.errorf(f.KeyRange, fpath, "unknown field %q %s (known fields: %s)", f.Key, where, strings.Join(known, ", "))
}

func name(path string) string {
	if path == "" {
		return "a job"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// validString reports invalid UTF-8, which no field may hold, and the
// characters a string of mode m may not hold (see text.go).
func (d *decoder) validString(v *lang.Value, path string, m lineMode) bool {
	if !utf8.ValidString(v.Str) {
		d.errorf(v.Range, path, "%s holds invalid UTF-8", path)
		return false
	}
	return d.plain(v.Range, path, "", v.Str, m)
}

// str reads a string of one line.
func (d *decoder) str(v *lang.Value, path string) (string, bool) {
	return d.stringOf(v, path, oneLine)
}

// stringOf reads a string of mode m.
func (d *decoder) stringOf(v *lang.Value, path string, m lineMode) (string, bool) {
	if v.Kind != lang.String {
		d.errorf(v.Range, path, "%s must be a string, not %s", path, v.Describe())
		return "", false
	}
	return v.Str, d.validString(v, path, m)
}

func (d *decoder) boolean(v *lang.Value, path string) (bool, bool) {
	if v.Kind != lang.Bool {
		d.errorf(v.Range, path, "%s must be true or false, not %s", path, v.Describe())
		return false, false
	}
	return v.Bool, true
}

// integer reads a whole number in [lo, hi].
func (d *decoder) integer(v *lang.Value, path string, lo, hi int64) (int, bool) {
	if v.Kind != lang.Number {
		d.errorf(v.Range, path, "%s must be a whole number, not %s", path, v.Describe())
		return 0, false
	}
	n, ok := parseInt(v.Number)
	if !ok {
		if f, err := strconv.ParseFloat(v.Number, 64); (err == nil || errors.Is(err, strconv.ErrRange)) && f == math.Trunc(f) {
			d.errorf(v.Range, path, "%s is %s, beyond 2^53: integers that large are not exact in JSON", path, v.Number)
		} else {
			d.errorf(v.Range, path, "%s must be a whole number, not %s", path, v.Number)
		}
		return 0, false
	}
	if n < lo || n > hi {
		d.errorf(v.Range, path, "%s is %d; %s", path, n, bounds(lo, hi))
		return 0, false
	}
	return int(n), true
}

func bounds(lo, hi int64) string {
	if hi >= maxSafeInt {
		return "it must be at least " + strconv.FormatInt(lo, 10)
	}
	return "it must be between " + strconv.FormatInt(lo, 10) + " and " + strconv.FormatInt(hi, 10)
}

// parseInt reads JSON number text that denotes an integer of at most 2^53 in
// magnitude ("3", "-2", "1e3", "4.0").
func parseInt(s string) (int64, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, n >= -maxSafeInt && n <= maxSafeInt
	}
	if len(s) > 400 {
		return 0, false
	}
	f, _, err := big.ParseFloat(s, 10, 256, big.ToNearestEven)
	if err != nil || !f.IsInt() {
		return 0, false
	}
	n, acc := f.Int64()
	if acc != big.Exact || n < -maxSafeInt || n > maxSafeInt {
		return 0, false
	}
	return n, true
}

// number reads a finite number in [lo, hi].
func (d *decoder) number(v *lang.Value, path string, lo, hi float64) (float64, bool) {
	if v.Kind != lang.Number {
		d.errorf(v.Range, path, "%s must be a number, not %s", path, v.Describe())
		return 0, false
	}
	f, err := strconv.ParseFloat(v.Number, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		d.errorf(v.Range, path, "%s: %s is not a finite number", path, v.Number)
		return 0, false
	}
	if f < lo || f > hi {
		d.errorf(v.Range, path, "%s is %s; it must be between %s and %s", path, v.Number, fmtFloat(lo), fmtFloat(hi))
		return 0, false
	}
	return f, true
}

func fmtFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// strings reads a list of strings of mode m.
func (d *decoder) strings(v *lang.Value, path string, m lineMode) ([]string, []*lang.Value, bool) {
	if v.Kind != lang.List {
		d.errorf(v.Range, path, "%s must be a list of strings, not %s", path, v.Describe())
		return nil, nil, false
	}
	out := make([]string, 0, len(v.List))
	ok := true
	for i, e := range v.List {
		s, good := d.stringOf(e, index(path, i), m)
		ok = ok && good
		out = append(out, s)
	}
	return out, v.List, ok
}

// stringMap reads a map of strings, whose keys are one line and whose
// values are of mode m, calling check on each entry.
func (d *decoder) stringMap(v *lang.Value, path string, m lineMode, check func(f *lang.Field, val string, path string)) map[string]string {
	if v.Kind != lang.Map {
		d.errorf(v.Range, path, "%s must be a map of strings, not %s", path, v.Describe())
		return nil
	}
	out := make(map[string]string, len(v.Fields))
	lines := make(map[string]int, len(v.Fields))
	for _, f := range v.Fields {
		fpath := keyPath(path, f.Key)
		if line, dup := lines[f.Key]; dup {
			d.errorf(f.KeyRange, fpath, "duplicate key %q (first set at line %d)", f.Key, line)
			continue
		}
		lines[f.Key] = f.KeyRange.Start.Line
		if !utf8.ValidString(f.Key) {
			d.errorf(f.KeyRange, path, "a key of %s holds invalid UTF-8", path)
			continue
		}
		if !d.plain(f.KeyRange, fpath, path, f.Key, oneLine) {
			continue
		}
		if f.Value.Kind != lang.String {
			d.errorf(f.Value.Range, fpath, "%s must be a string, not %s", fpath, f.Value.Describe())
			continue
		}
		if !d.validString(f.Value, fpath, m) {
			continue
		}
		if check != nil {
			check(f, f.Value.Str, fpath)
		}
		out[f.Key] = f.Value.Str
	}
	return out
}

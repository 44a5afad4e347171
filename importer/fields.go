package importer

import (
	"strings"
	"time"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/selector"
)

// Writers of muster fields shared by the systems.

// jobTypes are the job types muster has; the three systems use the same
// words.
var jobTypes = []string{"batch", "ops", "service", "daemon"}

// jobType writes the source's job type v, at path, as type and returns
// it ("" when it is not one of jobTypes, which is reported).
func (c *conv) jobType(j *job, v *lang.Value, path string) string {
	s, ok := c.str(v, path)
	if !ok {
		return ""
	}
	t := strings.ToLower(strings.TrimSpace(s))
	for _, known := range jobTypes {
		if t == known {
			j.set("type", text(t, v.Range))
			return t
		}
	}
	c.errorf(v.Range, path, "unknown job type %q: want batch, ops, service or daemon", s)
	return ""
}

// count writes the source's count v, at path, for a job of type typ.
// Jobs that run on every matching node (ops, daemon) take no count, in the
// source systems as in muster: there it is dropped.
func (c *conv) count(j *job, typ string, v *lang.Value, path string) {
	if typ == "ops" || typ == "daemon" {
		if !empty(v) {
			c.warnf(v.Range, path, "dropped: a %s job runs once on every matching node, and takes no count", typ)
		}
		return
	}
	if n, ok := c.integer(v, path); ok {
		j.set("count", integerValue(n, v.Range))
	}
}

// priority writes the priority v, at path. Bacalhau and Expanso rank
// priorities as muster does, higher first, on a scale their examples
// write from 0 to 100; 0 is their default (Go's zero value, which cannot
// be told from unset), so it is left to muster's default, 50.
func (c *conv) priority(j *job, v *lang.Value, path string) {
	if n, ok := c.integer(v, path); ok && n != 0 {
		j.set("priority", integerValue(n, v.Range))
	}
}

// labels writes the job labels v, at path. A label muster does not take
// (a key or value with spaces, a value longer than 63) is kept in meta,
// which takes any string, with a warning.
func (c *conv) labels(j *job, v *lang.Value, path string) {
	c.stringMap(j, "labels", v, path, func(key, val string, kr, vr lang.Range, p string) bool {
		err := selector.ValidateKey(key)
		if err == nil {
			err = selector.ValidateValue(val)
		}
		if err == nil {
			return true
		}
		if old := j.put("meta", key, kr, text(val, vr)); old != nil && old.Str != val {
			c.errorf(kr, p, "%q is no muster label (%v), and meta has %q already", key, err, key)
			return false
		}
		c.warnf(kr, p, "not a muster label (%v): kept in meta", err)
		return false
	})
}

// stringMap writes the map v, at path, into the muster map field key.
// keep, when not nil, is asked about each entry first: false leaves it
// out (keep says why).
func (c *conv) stringMap(j *job, key string, v *lang.Value, path string, keep func(k, val string, kr, vr lang.Range, p string) bool) {
	if v == nil {
		return
	}
	if v.Kind != lang.Map {
		c.errorf(v.Range, path, "want a map of strings, not %s", v.Describe())
		return
	}
	c.eachString(v, path, func(f *lang.Field, s, p string) {
		if keep == nil || keep(f.Key, s, f.KeyRange, f.Value.Range, p) {
			j.put(key, f.Key, f.KeyRange, text(s, f.Value.Range))
		}
	})
}

// eachString calls fn with each entry of the map v (at path) whose value
// is a string, and its path; an absent value is passed over, and another
// kind is an error.
func (c *conv) eachString(v *lang.Value, path string, fn func(f *lang.Field, s, p string)) {
	for _, f := range v.Fields {
		p := path + "." + f.Key
		if absent(f.Value) {
			continue
		}
		if s, ok := c.str(f.Value, p); ok {
			fn(f, s, p)
		}
	}
}

// reserved returns a keep function for stringMap that drops the keys
// under prefix, saying why.
func (c *conv) reserved(prefix, why string) func(k, val string, kr, vr lang.Range, p string) bool {
	return func(k, _ string, kr, _ lang.Range, p string) bool {
		if strings.HasPrefix(strings.ToLower(k), prefix) {
			c.warnf(kr, p, "dropped: %s", why)
			return false
		}
		return true
	}
}

// putEnv sets the environment variable name of the task to val, written
// at kr (the name) and vr (the value) at path. Writing one variable twice
// with two values is an error.
func (c *conv) putEnv(j *job, name, val string, kr, vr lang.Range, path string) {
	if old := j.put("task.env", name, kr, text(val, vr)); old != nil && old.Str != val {
		c.errorf(vr, path, "%s is set twice, to %q and to %q", name, old.Str, val)
	}
}

// cpus writes the cpu count v, at path, as task.resources.cpus.
func (c *conv) cpus(j *job, v *lang.Value, path string) {
	s, ok := c.str(v, path)
	if !ok || s == "" {
		return
	}
	f, err := cpusOf(s)
	if err != nil {
		c.errorf(v.Range, path, "%v", err)
		return
	}
	j.set("task.resources.cpus", number(f, v.Range))
}

// bytesMemory writes the size v, at path, read in bytes as Bacalhau reads
// sizes, as task.resources.memory; a size that is not a whole number of
// mebibytes is rounded up, with a warning.
func (c *conv) bytesMemory(j *job, v *lang.Value, path string) {
	s, ok := c.str(v, path)
	if !ok || s == "" {
		return
	}
	b, err := parseBytes(s)
	if err != nil {
		c.errorf(v.Range, path, "%v", err)
		return
	}
	size, exact := memoryOf(b)
	if !exact {
		c.warnf(v.Range, path, "%q is %.0f bytes, not a whole number of MiB: written as %s", s, b, size)
	}
	j.set("task.resources.memory", text(size, v.Range))
}

// timeout writes the duration v, at path, a number of seconds or a
// duration string, as the muster duration field key; 0 is no timeout and
// writes nothing.
func (c *conv) timeout(j *job, key string, v *lang.Value, path string) {
	d, ok := c.durationOf(v, path, time.Second)
	if ok && d > 0 {
		j.set(key, text(d.String(), v.Range))
	}
}

// requirement writes a selector requirement {Key, Operator, Values}, the
// object v at path, as a match expression.
func (c *conv) requirement(j *job, v *lang.Value, path string) {
	o := c.object(v, path)
	if o == nil {
		return
	}
	key, kv, _ := o.stringValue("Key")
	op, _, _ := o.stringValue("Operator")
	var values []string
	if vv, vp := o.value("Values"); vv != nil {
		values, _ = c.strs(vv, vp)
	}
	o.rest(func(string) string { return "not a field of a selector requirement (Key, Operator, Values)" })
	if kv == nil {
		c.errorf(v.Range, path, "the requirement names no Key")
		return
	}
	expr, err := selectorExpr(key, op, values)
	if err != nil {
		c.errorf(v.Range, path, "%v", err)
		return
	}
	j.add("selector.match_expressions", text(expr, v.Range))
}

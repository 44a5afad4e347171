package importer

import (
	"strings"
	"time"

	"github.com/muster-dev/muster/lang"
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

// stringMap writes the map v, at path, into the muster map field key.
// skip, when not nil, says why a key is dropped ("" keeps it).
func (c *conv) stringMap(j *job, key string, v *lang.Value, path string, skip func(k string) string) {
	if v == nil {
		return
	}
	if v.Kind != lang.Map {
		c.errorf(v.Range, path, "want a map of strings, not %s", v.Describe())
		return
	}
	for _, f := range v.Fields {
		p := path + "." + f.Key
		if skip != nil {
			if why := skip(f.Key); why != "" {
				c.warnf(f.KeyRange, p, "dropped: %s", why)
				continue
			}
		}
		if absent(f.Value) {
			continue
		}
		if s, ok := c.str(f.Value, p); ok {
			j.put(key, f.Key, f.KeyRange, text(s, f.Value.Range))
		}
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

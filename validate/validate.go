package validate

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/selector"
)

// Job decodes the tree of one job, checks every rule, fills the defaults and
// normalizes. It returns the job (nil when any error was found) and every
// diagnostic, in source order.
func Job(v *lang.Value) (*schema.Job, lang.Diagnostics) {
	d := &decoder{}
	j := schema.NewJob()
	d.job(v, &j)
	d.diags.Sort()
	redact(v, d.diags)
	if d.diags.HasErrors() {
		return nil, d.diags
	}
	schema.Normalize(&j)
	return &j, d.diags
}

func (d *decoder) job(v *lang.Value, j *schema.Job) {
	fs, ok := d.fields(v, "", jobFields)
	if !ok {
		return
	}
	if f := fs["api_version"]; f != nil && present(f.Value) {
		if s, ok := d.str(f.Value, "api_version"); ok && s != schema.APIVersion {
			d.errorf(f.Value.Range, "api_version", "api_version is %q; this muster reads %q", s, schema.APIVersion)
		}
	}
	if f := fs["name"]; f != nil && present(f.Value) {
		j.Name, _ = d.dnsLabel(f.Value, "name")
	} else {
		d.errorf(v.Range, "name", "a job needs a name")
	}
	d.namespace = schema.DefaultNamespace
	if f := fs["namespace"]; f != nil && present(f.Value) {
		j.Namespace, _ = d.dnsLabel(f.Value, "namespace")
		d.namespace = j.Namespace // "" when invalid: nothing to compare with
	}
	typeKnown := true
	if f := fs["type"]; f != nil && present(f.Value) {
		s, ok := d.enum(f.Value, "type", "batch", "ops", "service", "daemon")
		j.Type, typeKnown = schema.JobType(s), ok
	} else {
		j.Type = schema.DefaultType
	}
	d.jobType, d.typeKnown = j.Type, typeKnown
	if f := fs["description"]; f != nil && present(f.Value) {
		if s, ok := d.stringOf(f.Value, "description", multiLine); ok {
			if n := utf8.RuneCountInString(s); n > 1024 {
				d.errorf(f.Value.Range, "description", "description is %d characters long; at most 1024 are allowed", n)
			}
			j.Description = s
		}
	}
	if f := fs["labels"]; f != nil && present(f.Value) {
		j.Labels = d.labels(f.Value, "labels")
	}
	if f := fs["meta"]; f != nil && present(f.Value) {
		j.Meta = d.stringMap(f.Value, "meta", multiLine, func(f *lang.Field, _ string, path string) {
			if hasPrefixFold(f.Key, "muster.dev/") {
				d.errorf(f.KeyRange, path, "meta key %q: the prefix muster.dev/ is reserved for the system", f.Key)
			}
		})
	}
	if f := fs["priority"]; f != nil && present(f.Value) {
		j.Priority, _ = d.integer(f.Value, "priority", 0, 100)
	}
	if f := fs["count"]; f != nil && present(f.Value) {
		if typeKnown && !j.Type.HasCount() {
			d.errorf(f.KeyRange, "count", "count applies only to batch and service jobs; %s %s job runs once on every matching node", article(string(j.Type)), j.Type)
		} else {
			j.Count, _ = d.integer(f.Value, "count", 1, maxSafeInt)
		}
	}
	if f := fs["restart_policy"]; f != nil && present(f.Value) {
		s, _ := d.enum(f.Value, "restart_policy", "on-failure", "always", "never")
		j.RestartPolicy = schema.RestartPolicy(s)
	}
	if f := fs["selector"]; f != nil && present(f.Value) {
		d.selector(f.Value, &j.Selector)
	}
	if f := fs["task"]; f != nil && present(f.Value) {
		d.task(f.Value, f.KeyRange, &j.Task)
	} else {
		d.errorf(v.Range, "task", "a job needs a task (task.engine and what to run)")
	}
	if f := fs["rollout"]; f != nil && present(f.Value) {
		d.rollout(f.Value, &j.Rollout, j.Type, typeKnown)
	}
	if f := fs["timeouts"]; f != nil && present(f.Value) {
		if tf, ok := d.fields(f.Value, "timeouts", timeoutsFields); ok {
			d.duration(tf["execution"], "timeouts.execution", &j.Timeouts.Execution)
			d.duration(tf["queue"], "timeouts.queue", &j.Timeouts.Queue)
			d.duration(tf["total"], "timeouts.total", &j.Timeouts.Total)
		}
	}
	if f := fs["schedule"]; f != nil && present(f.Value) {
		j.Schedule = d.schedule(f)
	}
}

// article returns "an" before a vowel and "a" otherwise.
func article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

func (d *decoder) dnsLabel(v *lang.Value, path string) (string, bool) {
	s, ok := d.str(v, path)
	if !ok {
		return "", false
	}
	switch {
	case s == "":
		d.errorf(v.Range, path, "%s is empty", path)
	case len(s) > 63:
		d.errorf(v.Range, path, "%s is %d characters long; at most 63 are allowed", path, len(s))
	case !isDNSLabel(s):
		d.errorf(v.Range, path, "%s %q is invalid: use lowercase letters, digits and '-', starting and ending with a letter or digit", path, s)
	default:
		return s, true
	}
	return "", false
}

func (d *decoder) enum(v *lang.Value, path string, allowed ...string) (string, bool) {
	s, ok := d.str(v, path)
	if !ok {
		return "", false
	}
	if contains(allowed, s) {
		return s, true
	}
	msg := fmt.Sprintf("%s %q is not one of %s", path, s, strings.Join(quoteAll(allowed), ", "))
	if sug := suggest(s, allowed); sug != "" {
		msg += fmt.Sprintf("; did you mean %q?", sug)
	}
	d.errorf(v.Range, path, "%s", msg)
	return "", false
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = `"` + s + `"`
	}
	return out
}

func (d *decoder) labels(v *lang.Value, path string) map[string]string {
	return d.stringMap(v, path, oneLine, func(f *lang.Field, val string, fpath string) {
		if err := selector.ValidateKey(f.Key); err != nil {
			d.errorf(f.KeyRange, fpath, "%v", err)
		}
		if err := selector.ValidateValue(val); err != nil {
			d.errorf(f.Value.Range, fpath, "%v", err)
		}
	})
}

func (d *decoder) selector(v *lang.Value, s *schema.Selector) {
	fs, ok := d.fields(v, "selector", selectorFields)
	if !ok {
		return
	}
	if f := fs["match_labels"]; f != nil && present(f.Value) {
		s.MatchLabels = d.labels(f.Value, "selector.match_labels")
	}
	if f := fs["match_expressions"]; f != nil && present(f.Value) {
		exprs, vals, _ := d.strings(f.Value, "selector.match_expressions", oneLine)
		for i, e := range exprs {
			if vals[i].Kind != lang.String || !clean(e, oneLine) {
				continue // reported by strings
			}
			c, err := selector.Canonical(e)
			if err != nil {
				d.errorf(vals[i].Range, index("selector.match_expressions", i), "%v", err)
				continue
			}
			s.MatchExpressions = append(s.MatchExpressions, c)
		}
	}
	if f := fs["match_ids"]; f != nil && present(f.Value) {
		ids, vals, _ := d.strings(f.Value, "selector.match_ids", oneLine)
		for i, id := range ids {
			if vals[i].Kind == lang.String && strings.TrimSpace(id) == "" {
				d.errorf(vals[i].Range, index("selector.match_ids", i), "a node id must not be empty")
			}
		}
		s.MatchIDs = ids
	}
}

// duration reads an optional duration into *dst.
func (d *decoder) duration(f *lang.Field, path string, dst *schema.Duration) {
	if f == nil || !present(f.Value) {
		return
	}
	v := f.Value
	switch v.Kind {
	case lang.String:
		if !d.validString(v, path, oneLine) {
			return
		}
		dur, err := schema.ParseDuration(v.Str)
		if err != nil {
			d.errorf(v.Range, path, "%s: %v", path, err)
			return
		}
		*dst = dur
	case lang.Number:
		n, ok := parseInt(v.Number)
		if !ok {
			if f, err := strconv.ParseFloat(v.Number, 64); (err == nil || errors.Is(err, strconv.ErrRange)) && f == math.Trunc(f) {
				d.errorf(v.Range, path, "%s: %s seconds is too long", path, v.Number)
				return
			}
			d.errorf(v.Range, path, "%s: %s is not a whole number of seconds; write a duration string such as \"1.5s\"", path, v.Number)
			return
		}
		dur, err := schema.DurationFromSeconds(n)
		if err != nil {
			d.errorf(v.Range, path, "%s: %v", path, err)
			return
		}
		*dst = dur
	default:
		d.errorf(v.Range, path, "%s must be a duration such as \"90s\" or \"1h30m\", or whole seconds, not %s", path, v.Describe())
	}
}

// Package schedule works out the launch times of periodic jobs
// (schema.Schedule): it parses cron expressions with the parser of
// github.com/robfig/cron/v3, the one Kubernetes CronJob uses, in the zone
// the job names, and answers which times fall in a span, so that a control
// plane that was down knows what it missed.
package schedule

import (
	"fmt"
	"strings"
	"time"

	// The zone database is built in: a control plane in a bare container
	// reads zones as one on a full machine does.
	_ "time/tzdata"

	"github.com/robfig/cron/v3"

	"github.com/muster-dev/muster/schema"
)

// Descriptors are the shorthands a cron expression may be instead of five
// fields.
var Descriptors = []string{"@hourly", "@daily", "@weekly", "@monthly"}

// parser takes five fields, or a descriptor; seconds and @every are not
// part of the spec.
var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Cron is a parsed schedule: the times a periodic job launches. The zero
// Cron is not usable; get one from Parse.
type Cron struct {
	spec cron.Schedule
	loc  *time.Location
}

// Parse parses a schedule (normalized or not): its cron expression and
// its zone ("" is UTC). The error says what is wrong with which of them.
func Parse(s *schema.Schedule) (*Cron, error) {
	loc, err := Zone(s.TimeZone)
	if err != nil {
		return nil, err
	}
	spec, err := ParseCron(s.Cron)
	if err != nil {
		return nil, err
	}
	return &Cron{spec: spec, loc: loc}, nil
}

// ParseCron parses a cron expression alone; its error says what is wrong.
func ParseCron(expr string) (cron.Schedule, error) {
	expr = strings.Join(strings.Fields(expr), " ")
	switch {
	case expr == "":
		return nil, fmt.Errorf("the cron expression is empty: want five fields (minute hour day-of-month month day-of-week) such as \"0 3 * * *\", or one of %s", strings.Join(Descriptors, ", "))
	case strings.HasPrefix(strings.ToUpper(expr), "TZ=") || strings.HasPrefix(strings.ToUpper(expr), "CRON_TZ="):
		return nil, fmt.Errorf("cron %q names a zone: set schedule.time_zone instead", expr)
	case strings.HasPrefix(expr, "@"):
		d := strings.ToLower(expr)
		for _, ok := range Descriptors {
			if d == ok {
				return parser.Parse(d)
			}
		}
		return nil, fmt.Errorf("cron %q: unknown descriptor: want one of %s, or five fields", expr, strings.Join(Descriptors, ", "))
	}
	if n := len(strings.Fields(expr)); n != 5 {
		return nil, fmt.Errorf("cron %q has %d fields: want five (minute hour day-of-month month day-of-week)", expr, n)
	}
	spec, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %v", expr, err)
	}
	return spec, nil
}

// Zone loads an IANA zone name ("" and "UTC" are UTC). Local is refused:
// launch times must not depend on the machine a control plane runs on.
func Zone(name string) (*time.Location, error) {
	switch name {
	case "", "UTC":
		return time.UTC, nil
	case "Local":
		return nil, fmt.Errorf("time zone %q depends on the machine: name an IANA zone such as Europe/Berlin, or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not an IANA zone name (such as Europe/Berlin or America/New_York)", name)
	}
	return loc, nil
}

// Location is the zone the schedule's times are read in.
func (c *Cron) Location() *time.Location { return c.loc }

// Next returns the first launch time strictly after t, in UTC; the zero
// time when there is none within five years (a date such as 30 February).
// Each wall-clock time launches once across daylight-saving changes, as
// Vixie cron does: times that a change skips launch at the instant of the
// change, and a time that happens twice launches at its first instant only.
func (c *Cron) Next(t time.Time) time.Time {
	for {
		n := c.spec.Next(t.In(c.loc))
		if g, ok := c.gap(t, n); ok {
			return g.UTC()
		}
		if n.IsZero() {
			return n
		}
		if !c.repeated(n) {
			return n.UTC()
		}
		t = n
	}
}

// gap returns the first instant in (t, n) at which the clocks jump forward
// past a wall-clock time the schedule names: that time never happens, so
// it launches at the jump.
func (c *Cron) gap(t, n time.Time) (time.Time, bool) {
	for s := t; ; {
		_, end := s.In(c.loc).ZoneBounds()
		if end.IsZero() || (!n.IsZero() && !end.Before(n)) || end.Sub(t) > 5*366*24*time.Hour {
			return time.Time{}, false
		}
		_, before := end.Add(-time.Nanosecond).In(c.loc).Zone()
		_, after := end.In(c.loc).Zone()
		if jump := time.Duration(after-before) * time.Second; jump > 0 && end.After(t) {
			// The skipped wall-clock times, read on the clock before the jump.
			old := time.FixedZone("", before)
			from := end.In(old)
			if m := c.spec.Next(from.Add(-time.Nanosecond)); !m.IsZero() && m.Before(from.Add(jump)) {
				return end, true
			}
		}
		s = end
	}
}

// repeated reports whether the wall-clock time of n happened already, in
// the hour the clocks went back over.
func (c *Cron) repeated(n time.Time) bool {
	start, _ := n.In(c.loc).ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, before := start.Add(-time.Nanosecond).In(c.loc).Zone()
	_, now := n.In(c.loc).Zone()
	back := time.Duration(before-now) * time.Second
	return back > 0 && n.Sub(start) < back
}

// NextN returns the first n launch times after t.
func (c *Cron) NextN(t time.Time, n int) []time.Time {
	out := make([]time.Time, 0, n)
	for len(out) < n {
		t = c.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// Span says which launch times fall in (from, to].
type Span struct {
	// Count is how many there are; First and Last the earliest and the
	// latest (zero when Count is 0).
	Count       int
	First, Last time.Time
}

// Due returns the launch times in (from, to]. It walks them one by one up
// to limit and then stops counting: a minutely schedule down for a year is
// Count limit, Last still the latest time.
func (c *Cron) Due(from, to time.Time, limit int) Span {
	var s Span
	for t := c.Next(from); !t.IsZero() && !t.After(to); t = c.Next(t) {
		if s.Count == 0 {
			s.First = t
		}
		s.Count++
		s.Last = t
		if s.Count >= limit {
			// The latest one: the last time at or before to.
			s.Last = c.last(t, to)
			break
		}
	}
	return s
}

// last returns the latest launch time in [from, to], from being one.
func (c *Cron) last(from, to time.Time) time.Time {
	// Step back from to in widening windows until one holds a time.
	for w := time.Hour; ; w *= 4 {
		start := to.Add(-w)
		if !start.After(from) {
			start = from
		}
		var last time.Time
		for t := c.Next(start.Add(-time.Nanosecond)); !t.IsZero() && !t.After(to); t = c.Next(t) {
			last = t
		}
		if !last.IsZero() || !start.After(from) {
			if last.IsZero() {
				return from
			}
			return last
		}
	}
}

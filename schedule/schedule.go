// Package schedule works out the launch times of periodic jobs
// (schema.Schedule): it parses cron expressions with the parser of
// github.com/robfig/cron/v3, the one Kubernetes CronJob uses, in the zone
// the job names, and answers which times fall in a span, so that a control
// plane that was down knows what it missed.
package schedule

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // zones where the machine has no zone database (scratch images)
	"unicode/utf8"

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

// ParseCron parses a cron expression alone; its error says what is wrong
// and how to write it. It refuses what the spec leaves out (seconds,
// @every and the other descriptors, a zone inside the expression) and an
// expression that names no time that ever comes (30 February).
func ParseCron(expr string) (cron.Schedule, error) {
	for i, r := range expr {
		if !cronChar(r) {
			return nil, fmt.Errorf("cron %q holds %q at character %d: a cron expression is written in digits, the names jan-dec and sun-sat, and * , - / ?",
				expr, r, utf8.RuneCountInString(expr[:i])+1)
		}
	}
	expr = strings.Join(strings.Fields(expr), " ")
	upper := strings.ToUpper(expr)
	switch {
	case expr == "":
		return nil, fmt.Errorf("the cron expression is empty: want five fields (minute hour day-of-month month day-of-week) such as \"15 3 * * *\", or one of %s", strings.Join(Descriptors, ", "))
	case strings.HasPrefix(upper, "TZ=") || strings.HasPrefix(upper, "CRON_TZ="):
		return nil, fmt.Errorf("cron %q names a zone: set schedule.time_zone instead, and write only the five fields in cron", expr)
	case strings.HasPrefix(expr, "@"):
		d := strings.ToLower(expr)
		if slices.Contains(Descriptors, d) {
			return parser.Parse(d)
		}
		msg := fmt.Sprintf("cron %q: unknown descriptor: want one of %s, or five fields", expr, strings.Join(Descriptors, ", "))
		if hint := descriptorHints[strings.Fields(d)[0]]; hint != "" {
			msg += "; " + hint
		}
		return nil, errors.New(msg)
	}
	fields := strings.Fields(expr)
	switch n := len(fields); {
	case n == 6:
		return nil, fmt.Errorf("cron %q has 6 fields: want five (minute hour day-of-month month day-of-week); a launch time has no seconds, nor a year", expr)
	case n != 5:
		return nil, fmt.Errorf("cron %q has %d fields: want five (minute hour day-of-month month day-of-week)", expr, n)
	}
	// Parse each field alone first, so that the error names the field.
	for i, f := range fields {
		if strings.HasPrefix(f, ",") || strings.HasSuffix(f, ",") || strings.Contains(f, ",,") {
			return nil, fmt.Errorf("cron %q: the %s field %q has an empty item in its list: write items between the commas; %s is %s",
				expr, fieldNames[i].name, f, fieldNames[i].what, fieldNames[i].values)
		}
		alone := []string{"*", "*", "*", "*", "*"}
		alone[i] = f
		if _, err := parser.Parse(strings.Join(alone, " ")); err != nil {
			return nil, fmt.Errorf("cron %q: the %s field %q: %s; %s is %s",
				expr, fieldNames[i].name, f, fieldProblem(err), fieldNames[i].what, fieldNames[i].values)
		}
	}
	spec, err := parser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("cron %q: %v", expr, err)
	}
	if spec.Next(neverAfter).IsZero() {
		return nil, fmt.Errorf("cron %q names no time that ever comes (such as 30 February): check the day of the month against the month", expr)
	}
	return spec, nil
}

// fieldProblem words an error of robfig's parser about one field.
func fieldProblem(err error) string {
	msg := err.Error()
	for _, p := range fieldProblems {
		if m := p.re.FindStringSubmatch(msg); m != nil {
			return p.re.ReplaceAllString(m[0], p.say)
		}
	}
	return msg
}

// fieldProblems are robfig's errors about a field, and how to say them.
var fieldProblems = []struct {
	re  *regexp.Regexp
	say string
}{
	{regexp.MustCompile(`^failed to parse int from (.*?): .*$`), `"$1" is not a number or a name`},
	{regexp.MustCompile(`^end of range \((\d+)\) above maximum \((\d+)\): .*$`), `$1 is above the maximum $2`},
	{regexp.MustCompile(`^beginning of range \((\d+)\) below minimum \((\d+)\): .*$`), `$1 is below the minimum $2`},
	{regexp.MustCompile(`^beginning of range \((\d+)\) beyond end of range \((\d+)\): .*$`), `the range $1-$2 runs backwards: write the smaller number first`},
	{regexp.MustCompile(`^step of range should be a positive number: .*$`), `a step (after /) is a positive number`},
	{regexp.MustCompile(`^too many hyphens: (.*)$`), `"$1" holds more than one -`},
	{regexp.MustCompile(`^too many slashes: (.*)$`), `"$1" holds more than one /`},
}

// cronChar reports whether r may be part of a cron expression: a letter
// (of a name, or a descriptor), a digit, * , - / ? @ or a space. The '='
// and '_' of a TZ= or CRON_TZ= prefix pass too, to be refused with a word
// about zones.
func cronChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("*,-/?@=_ \t", r)
}

// neverAfter is where ParseCron looks for a first launch time: robfig's
// Next looks five years ahead, which from a leap year's start finds every
// date that ever comes (29 February too).
var neverAfter = time.Date(2000, time.January, 1, 0, 0, 0, 0, time.UTC)

// fieldNames names the five fields of a cron expression, and the values
// each takes, for errors.
var fieldNames = [5]struct{ name, what, values string }{
	{"minute", "a minute", "0-59"},
	{"hour", "an hour", "0-23"},
	{"day-of-month", "a day of the month", "1-31"},
	{"month", "a month", "1-12 or jan-dec"},
	{"day-of-week", "a day of the week", "0-6 (0 is Sunday) or sun-sat"},
}

// descriptorHints say what to write instead of the descriptors that other
// cron implementations take and the spec does not.
var descriptorHints = map[string]string{
	"@every":    `@every is not part of the spec: write the interval as fields, such as "*/5 * * * *" for every five minutes`,
	"@yearly":   `for once a year write "0 0 1 1 *"`,
	"@annually": `for once a year write "0 0 1 1 *"`,
	"@midnight": `write "@daily", or "0 0 * * *"`,
	"@reboot":   "a schedule launches on the clock, not when a machine starts",
}

// Zone loads an IANA zone name ("" and "UTC" are UTC). Local and localtime
// are refused: launch times must not depend on the machine a control
// plane runs on; so is a name that is not spelled as IANA spells zones
// ("Europe//Berlin" and "./UTC" name files of the zone database, but no
// zone). The zone database of the machine is read first, and the copy
// built into muster where the machine has none.
func Zone(name string) (*time.Location, error) {
	switch {
	case name == "" || name == "UTC":
		return time.UTC, nil
	case strings.EqualFold(name, "Local") || strings.EqualFold(name, "localtime"):
		return nil, fmt.Errorf("time zone %q depends on the machine: name an IANA zone such as Europe/Berlin, or UTC", name)
	case !zoneName.MatchString(name):
		return nil, fmt.Errorf("time zone %q is not an IANA zone name: write one such as Europe/Berlin, America/New_York or UTC", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		if strings.EqualFold(name, "UTC") {
			return nil, fmt.Errorf("time zone %q is not an IANA zone name: zone names are case-sensitive; write UTC", name)
		}
		return nil, fmt.Errorf("time zone %q is not an IANA zone name: write one such as Europe/Berlin, America/New_York or UTC", name)
	}
	return loc, nil
}

// zoneName is the spelling of IANA zone names (schema.TimeZonePattern).
var zoneName = regexp.MustCompile(schema.TimeZonePattern)

// Location is the zone the schedule's times are read in.
func (c *Cron) Location() *time.Location { return c.loc }

// Next returns the first launch time strictly after t, in UTC; the zero
// time when there is none within five years (29 February alone, seen from
// March 2096: 2100 is no leap year).
// Each wall-clock time launches once across daylight-saving changes, as
// Vixie cron does: times that a change skips launch at the instant of the
// change, and a time that happens twice launches at its first instant only.
//
// Next works on the faces of the zone's clock (see wall.go): the next face
// the expression names after every face already shown at or before t, at
// the first instant the clock shows it, or jumps past it.
func (c *Cron) Next(t time.Time) time.Time {
	face := c.spec.Next(c.shown(t))
	if face.IsZero() {
		return face
	}
	return c.instant(face).UTC()
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
// to limit (a limit below 1 counts as 1) and then stops counting: a
// minutely schedule down for a year is Count limit, Last still the latest
// time.
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
		if w >= to.Sub(from) || !start.After(from) {
			start = from // also before w overflows
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

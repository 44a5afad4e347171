package schedule_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
)

// at parses an RFC 3339 instant.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustParse(t testing.TB, cron, zone string) *schedule.Cron {
	t.Helper()
	c, err := schedule.Parse(&schema.Schedule{Cron: cron, TimeZone: zone})
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", cron, zone, err)
	}
	return c
}

// instants formats times as RFC 3339 in UTC, for comparison and messages.
func instants(ts []time.Time) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = t.UTC().Format(time.RFC3339)
	}
	return strings.Join(s, " ")
}

// nextCase is a schedule, an instant and the launch times that follow it,
// in UTC; local says, for the reader, what the times are on the zone's
// clock.
type nextCase struct {
	name, cron, zone, from string
	want                   []string
	local                  string
}

func runNext(t *testing.T, cases []nextCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, c.cron, c.zone)
			got := s.NextN(at(t, c.from), len(c.want))
			if g, w := instants(got), strings.Join(c.want, " "); g != w {
				t.Errorf("%s in %s after %s (%s):\ngot  %s\nwant %s", c.cron, c.zone, c.from, c.local, g, w)
			}
			for _, g := range got {
				if g.Location() != time.UTC {
					t.Errorf("Next returned %v in %v, want UTC", g, g.Location())
				}
			}
			// Next, one at a time, gives what NextN gives.
			from := at(t, c.from)
			for i := range got {
				n := s.Next(from)
				if !n.Equal(got[i]) {
					t.Errorf("Next #%d = %s, NextN gave %s", i, n, got[i])
				}
				from = n
			}
		})
	}
}

func TestNextUTC(t *testing.T) {
	runNext(t, []nextCase{
		{"daily", "15 3 * * *", "UTC", "2026-05-10T00:00:00Z",
			[]string{"2026-05-10T03:15:00Z", "2026-05-11T03:15:00Z", "2026-05-12T03:15:00Z"}, "03:15"},
		{"strictly after", "15 3 * * *", "UTC", "2026-05-10T03:15:00Z",
			[]string{"2026-05-11T03:15:00Z"}, "from a launch time itself"},
		{"a nanosecond before", "15 3 * * *", "", "2026-05-10T03:14:59.999999999Z",
			[]string{"2026-05-10T03:15:00Z"}, "the empty zone is UTC"},
		{"every 20 minutes", "*/20 * * * *", "UTC", "2026-05-10T23:30:00Z",
			[]string{"2026-05-10T23:40:00Z", "2026-05-11T00:00:00Z", "2026-05-11T00:20:00Z"}, ""},
		{"weekdays by name", "0 9 * * mon-fri", "UTC", "2026-05-08T10:00:00Z", // a Friday
			[]string{"2026-05-11T09:00:00Z", "2026-05-12T09:00:00Z"}, "Monday, Tuesday"},
		{"names in any case", "0 9 1 JAN,Jul *", "UTC", "2026-05-08T10:00:00Z",
			[]string{"2026-07-01T09:00:00Z", "2027-01-01T09:00:00Z"}, ""},
		{"day of month or day of week", "0 0 13 * fri", "UTC", "2026-02-01T00:00:00Z",
			[]string{"2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z"}, "both restricted: either matches, as in Vixie cron"},
		{"leap day", "0 0 29 2 *", "UTC", "2026-01-01T00:00:00Z",
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}, ""},
		{"question mark is a star", "0 12 ? * ?", "UTC", "2026-05-10T13:00:00Z",
			[]string{"2026-05-11T12:00:00Z"}, ""},
		{"fixed offset zone", "0 0 * * *", "Asia/Kolkata", "2026-05-10T00:00:00Z",
			[]string{"2026-05-10T18:30:00Z", "2026-05-11T18:30:00Z"}, "midnight IST, UTC+5:30"},
	})
}

// TestNextDST holds Next to its rule: each wall-clock time launches once.
// A time that the spring change skips launches at the instant of the jump;
// a time that the autumn change repeats launches at its first instant
// only. In 2026 Europe/Berlin springs forward on 29 March (02:00 CET is
// 03:00 CEST, 01:00 UTC) and falls back on 25 October (03:00 CEST is 02:00
// CET, 01:00 UTC); America/New_York on 8 March (02:00 EST is 03:00 EDT,
// 07:00 UTC) and 1 November (02:00 EDT is 01:00 EST, 06:00 UTC).
func TestNextDST(t *testing.T) {
	runNext(t, []nextCase{
		// Spring forward.
		{"Berlin daily in the gap", "30 2 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z",
			[]string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"},
			"02:30 CET, then 03:00 CEST at the jump, then 02:30 CEST"},
		{"Berlin every 20 minutes across the gap", "*/20 * * * *", "Europe/Berlin", "2026-03-29T00:30:00Z",
			[]string{"2026-03-29T00:40:00Z", "2026-03-29T01:00:00Z", "2026-03-29T01:20:00Z"},
			"01:40 CET, 03:00 CEST for 02:00-02:40 and 03:00 at once, 03:20 CEST"},
		{"Berlin every 20 minutes of the gap hour", "*/20 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z", "2026-03-30T00:20:00Z"},
			"once at 03:00 CEST for 02:00, 02:20 and 02:40, then 02:00 CEST the next day"},
		{"Berlin from the jump itself", "30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:00Z",
			[]string{"2026-03-30T00:30:00Z"}, "the skipped 02:30 launched at the jump already"},
		{"Berlin just after the jump", "30 2 * * *", "Europe/Berlin", "2026-03-29T01:00:01Z",
			[]string{"2026-03-30T00:30:00Z"}, ""},
		{"Berlin hour after the gap", "0 3 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z",
			[]string{"2026-03-29T01:00:00Z", "2026-03-30T01:00:00Z"}, "03:00 CEST exists: it is the jump"},
		{"New York daily in the gap", "30 2 * * *", "America/New_York", "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z"}, "03:00 EDT at the jump, then 02:30 EDT"},
		{"Havana midnight skipped", "0 0 * * *", "America/Havana", "2026-03-07T12:00:00Z",
			[]string{"2026-03-08T05:00:00Z", "2026-03-09T04:00:00Z"}, "the clocks go from 00:00 CST to 01:00 CDT: it launches at 01:00 CDT"},
		{"Lord Howe half-hour gap", "15 2 * * *", "Australia/Lord_Howe", "2026-10-03T00:00:00Z",
			[]string{"2026-10-03T15:30:00Z", "2026-10-04T15:15:00Z"}, "02:00 +1030 is 02:30 +11: 02:15 launches at 02:30 +11"},

		{"Berlin gap beyond the listed transitions", "30 2 * * *", "Europe/Berlin", "2056-03-25T12:00:00Z",
			[]string{"2056-03-26T01:00:00Z", "2056-03-27T00:30:00Z"}, "from the zone's rule, in 2056: 03:00 CEST at the jump"},
		{"Berlin across 31 December of a leap year beyond 2037", "@daily", "Europe/Berlin", "2056-12-30T12:00:00Z",
			[]string{"2056-12-30T23:00:00Z", "2056-12-31T23:00:00Z", "2057-01-01T23:00:00Z"},
			"Go's ZoneBounds ends a period early on that day; Next must walk on"},

		// Fall back.
		{"Berlin daily in the repeated hour", "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z",
			[]string{"2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"},
			"02:30 CEST once; 02:30 CET an hour later does not launch"},
		{"Berlin every 20 minutes across the repeat", "*/20 * * * *", "Europe/Berlin", "2026-10-25T00:30:00Z",
			[]string{"2026-10-25T00:40:00Z", "2026-10-25T02:00:00Z", "2026-10-25T02:20:00Z"},
			"02:40 CEST, then nothing through the repeated 02:00-02:59 CET, then 03:00 CET"},
		{"New York hourly at the fall back", "0 * * * *", "America/New_York", "2026-11-01T03:30:00Z",
			[]string{"2026-11-01T04:00:00Z", "2026-11-01T05:00:00Z", "2026-11-01T07:00:00Z", "2026-11-01T08:00:00Z"},
			"00:00 EDT, 01:00 EDT once (not 01:00 EST), 02:00 EST, 03:00 EST"},
		{"New York from inside the second pass", "*/30 * * * *", "America/New_York", "2026-11-01T06:10:00Z",
			[]string{"2026-11-01T07:00:00Z"}, "01:30 EST repeats 01:30 EDT, which came already; next is 02:00 EST"},
		{"New York daily at 01:30", "30 1 * * *", "America/New_York", "2026-10-31T12:00:00Z",
			[]string{"2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"}, "01:30 EDT once, then 01:30 EST the next day"},
		{"Lord Howe half-hour repeat", "45 1 * * *", "Australia/Lord_Howe", "2026-04-04T12:00:00Z",
			[]string{"2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"}, "01:45 +11 once (not 01:45 +1030), then 01:45 +1030 the next day"},
	})
}

// TestOncePerDayAcrossDST counts the launches of a daily schedule on the
// local days around both changes of the year: exactly one on each.
func TestOncePerDayAcrossDST(t *testing.T) {
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana"} {
		for _, cron := range []string{"0 0 * * *", "30 1 * * *", "30 2 * * *", "0 3 * * *", "59 23 * * *"} {
			s := mustParse(t, cron, zone)
			from := time.Date(2025, time.December, 31, 12, 0, 0, 0, time.UTC)
			days := map[string]int{}
			for _, n := range s.NextN(from, 365) {
				days[n.In(s.Location()).Format("2006-01-02")]++
			}
			if len(days) != 365 {
				t.Errorf("%s in %s: launches on %d days of 365", cron, zone, len(days))
			}
			for d, n := range days {
				if n != 1 {
					t.Errorf("%s in %s: %d launches on %s", cron, zone, n, d)
				}
			}
		}
	}
}

// walk is the rule of Next written out as plainly as it can be: it steps
// through [from-3 days, until) a minute at a time (every zone's offset is
// a whole number of minutes), reads the zone's clock at each step, and
// launches at a step when a face the expression names lies between the
// latest face shown before the step and the step's own face: once for
// each face, at the jump for faces the clocks skip, and never again for
// faces the clocks repeat. Faces are matched in UTC, where robfig's
// arithmetic meets no daylight saving. The three days before from show
// the faces of a change just before it.
func walk(t testing.TB, expr string, loc *time.Location, from, until time.Time) []time.Time {
	t.Helper()
	spec, err := schedule.ParseCron(expr)
	if err != nil {
		t.Fatal(err)
	}
	face := func(u time.Time) time.Time {
		_, off := u.In(loc).Zone()
		return u.UTC().Add(time.Duration(off) * time.Second)
	}
	u := from.Add(-72 * time.Hour).Truncate(time.Minute)
	shown := face(u)
	next := spec.Next(shown)
	var out []time.Time
	for ; u.Before(until); u = u.Add(time.Minute) {
		f := face(u)
		if !f.After(shown) {
			continue // the clocks went back: these faces were shown
		}
		if !next.After(f) {
			if u.After(from) {
				out = append(out, u.UTC())
			}
			next = spec.Next(f)
		}
		shown = f
	}
	return out
}

// TestNextAgreesWithWalk holds Next to walk over a year, in zones with
// every kind of change: an hour, half an hour (Lord Howe), at midnight
// (Havana), south of the equator, and 45 minutes off the hour (Chatham).
func TestNextAgreesWithWalk(t *testing.T) {
	from := at(t, "2026-01-01T00:00:00Z")
	until := from.AddDate(1, 0, 0)
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana",
		"America/Santiago", "Pacific/Chatham", "Asia/Kolkata"} {
		for _, expr := range []string{"0 0 * * *", "30 1 * * *", "15 2 * * *", "30 2 * * *", "0 3 * * *", "*/20 * * * *",
			"45 * * * *", "0 1-3 * * sun", "59 23 * * *", "0 2 * * *"} {
			s := mustParse(t, expr, zone)
			want := walk(t, expr, s.Location(), from, until)
			var got []time.Time
			for n := s.Next(from); n.Before(until); n = s.Next(n) {
				got = append(got, n)
			}
			if len(got) != len(want) {
				t.Errorf("%s in %s: Next gives %d launches in 2026, the walk %d", expr, zone, len(got), len(want))
			}
			for i := range min(len(got), len(want)) {
				if !got[i].Equal(want[i]) {
					t.Errorf("%s in %s: launch %d is %s (%s), the walk says %s (%s)", expr, zone, i,
						got[i].Format(time.RFC3339), got[i].In(s.Location()).Format("15:04 MST"),
						want[i].Format(time.RFC3339), want[i].In(s.Location()).Format("15:04 MST"))
					break
				}
			}
		}
	}
}

func TestDescriptors(t *testing.T) {
	runNext(t, []nextCase{
		{"hourly", "@hourly", "UTC", "2026-05-10T10:30:00Z",
			[]string{"2026-05-10T11:00:00Z", "2026-05-10T12:00:00Z"}, ""},
		{"daily", "@daily", "UTC", "2026-05-10T10:30:00Z",
			[]string{"2026-05-11T00:00:00Z", "2026-05-12T00:00:00Z"}, ""},
		{"weekly on Sunday", "@weekly", "UTC", "2026-05-10T10:30:00Z", // a Sunday
			[]string{"2026-05-17T00:00:00Z", "2026-05-24T00:00:00Z"}, ""},
		{"monthly on the first", "@monthly", "UTC", "2026-05-10T10:30:00Z",
			[]string{"2026-06-01T00:00:00Z", "2026-07-01T00:00:00Z"}, ""},
		{"any case", "@Daily", "UTC", "2026-05-10T10:30:00Z",
			[]string{"2026-05-11T00:00:00Z"}, ""},
		{"spaces around", "  @weekly ", "UTC", "2026-05-10T10:30:00Z",
			[]string{"2026-05-17T00:00:00Z"}, ""},
		{"daily in Berlin", "@daily", "Europe/Berlin", "2026-03-28T12:00:00Z",
			[]string{"2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"}, "midnight CET, then midnight CEST"},
		{"hourly across the Berlin gap", "@hourly", "Europe/Berlin", "2026-03-28T23:30:00Z",
			[]string{"2026-03-29T00:00:00Z", "2026-03-29T01:00:00Z", "2026-03-29T02:00:00Z"}, "01:00 CET, 03:00 CEST (02:00 never comes), 04:00 CEST"},
	})
	// A descriptor means its five fields.
	for d, fields := range map[string]string{"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *"} {
		a, b := mustParse(t, d, "Europe/Berlin"), mustParse(t, fields, "Europe/Berlin")
		from := at(t, "2026-01-01T00:00:00Z")
		if x, y := instants(a.NextN(from, 50)), instants(b.NextN(from, 50)); x != y {
			t.Errorf("%s and %s differ:\n%s\n%s", d, fields, x, y)
		}
	}
}

func TestDue(t *testing.T) {
	cases := []struct {
		name, cron, zone, from, to string
		limit                      int
		count                      int
		first, last                string // "" for the zero time
	}{
		{"within the limit", "0 * * * *", "UTC", "2026-05-10T00:00:00Z", "2026-05-10T05:00:00Z", 10,
			5, "2026-05-10T01:00:00Z", "2026-05-10T05:00:00Z"},
		{"from excluded, to included", "0 * * * *", "UTC", "2026-05-10T01:00:00Z", "2026-05-10T02:00:00Z", 10,
			1, "2026-05-10T02:00:00Z", "2026-05-10T02:00:00Z"},
		{"exactly the limit", "0 * * * *", "UTC", "2026-05-10T00:00:00Z", "2026-05-10T05:00:00Z", 5,
			5, "2026-05-10T01:00:00Z", "2026-05-10T05:00:00Z"},
		{"limit hit: count capped, last the latest", "* * * * *", "UTC", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 100,
			100, "2026-01-01T00:01:00Z", "2027-01-01T00:00:00Z"},
		{"limit hit, to between launches", "15 3 * * *", "UTC", "2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z", 3,
			3, "2026-01-01T03:15:00Z", "2026-12-31T03:15:00Z"},
		{"limit hit, sparse", "0 0 29 2 *", "UTC", "2000-01-01T00:00:00Z", "2030-01-01T00:00:00Z", 2,
			2, "2000-02-29T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"limit hit across the Berlin gap", "*/20 * * * *", "Europe/Berlin", "2026-03-28T00:00:00Z", "2026-03-29T01:10:00Z", 2,
			2, "2026-03-28T00:20:00Z", "2026-03-29T01:00:00Z"},
		{"limit hit in the repeated hour", "*/20 * * * *", "Europe/Berlin", "2026-10-24T00:00:00Z", "2026-10-25T01:50:00Z", 2,
			2, "2026-10-24T00:20:00Z", "2026-10-25T00:40:00Z"},
		{"a limit below 1 counts as 1", "0 * * * *", "UTC", "2026-05-10T00:00:00Z", "2026-05-10T05:00:00Z", 0,
			1, "2026-05-10T01:00:00Z", "2026-05-10T05:00:00Z"},
		{"nothing due", "0 * * * *", "UTC", "2026-05-10T00:00:00Z", "2026-05-10T00:59:59Z", 10,
			0, "", ""},
		{"empty span", "* * * * *", "UTC", "2026-05-10T00:00:00Z", "2026-05-10T00:00:00Z", 10,
			0, "", ""},
		{"to before from", "* * * * *", "UTC", "2026-05-10T00:00:00Z", "2026-05-09T00:00:00Z", 10,
			0, "", ""},
	}
	format := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := mustParse(t, c.cron, c.zone)
			got := s.Due(at(t, c.from), at(t, c.to), c.limit)
			if got.Count != c.count || format(got.First) != c.first || format(got.Last) != c.last {
				t.Errorf("Due = {%d %s %s}, want {%d %s %s}", got.Count, format(got.First), format(got.Last), c.count, c.first, c.last)
			}
		})
	}
}

// TestDueAgreesWithNext checks Due without a limit against a walk of Next
// over a year in zones with changes.
func TestDueAgreesWithNext(t *testing.T) {
	from, to := at(t, "2026-01-01T00:00:00Z"), at(t, "2027-01-01T00:00:00Z")
	for _, zone := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
		for _, cron := range []string{"*/20 * * * *", "30 2 * * *", "@hourly", "0 1-3 * * sun"} {
			s := mustParse(t, cron, zone)
			var walk []time.Time
			for n := s.Next(from); !n.After(to); n = s.Next(n) {
				walk = append(walk, n)
			}
			d := s.Due(from, to, 1<<30)
			if d.Count != len(walk) || !d.First.Equal(walk[0]) || !d.Last.Equal(walk[len(walk)-1]) {
				t.Errorf("%s in %s: Due = {%d %s %s}, Next walks %d from %s to %s",
					cron, zone, d.Count, d.First, d.Last, len(walk), walk[0], walk[len(walk)-1])
			}
			for _, limit := range []int{1, 7, len(walk) - 1} {
				d := s.Due(from, to, limit)
				if d.Count != limit || !d.First.Equal(walk[0]) || !d.Last.Equal(walk[len(walk)-1]) {
					t.Errorf("%s in %s, limit %d: Due = {%d %s %s}, want {%d %s %s}",
						cron, zone, limit, d.Count, d.First, d.Last, limit, walk[0], walk[len(walk)-1])
				}
			}
		}
	}
}

func TestParseCronErrors(t *testing.T) {
	cases := []struct{ expr, want string }{
		{"", "the cron expression is empty: want five fields"},
		{"   ", "the cron expression is empty"},
		{"0 0 3 * * *", `cron "0 0 3 * * *" has 6 fields: want five (minute hour day-of-month month day-of-week); a launch time has no seconds`},
		{"0 3 * *", `cron "0 3 * *" has 4 fields: want five`},
		{"0 3 * * * 2026 x", "has 7 fields: want five"},
		{"@every 5m", `cron "@every 5m": unknown descriptor: want one of @hourly, @daily, @weekly, @monthly, or five fields; @every is not part of the spec`},
		{"@yearly", `for once a year write "0 0 1 1 *"`},
		{"@annually", `for once a year write "0 0 1 1 *"`},
		{"@midnight", `write "@daily", or "0 0 * * *"`},
		{"@reboot", "a schedule launches on the clock"},
		{"@often", `cron "@often": unknown descriptor`},
		{"TZ=Europe/Berlin 0 3 * * *", "names a zone: set schedule.time_zone instead"},
		{"CRON_TZ=UTC 0 3 * * *", "names a zone"},
		{"cron_tz=UTC 0 3 * * *", "names a zone"},
		{"60 * * * *", `the minute field "60": 60 is above the maximum 59; a minute is 0-59`},
		{"1,61 * * * *", `the minute field "1,61": 61 is above the maximum 59`},
		{"0 24 * * *", `the hour field "24": 24 is above the maximum 23; an hour is 0-23`},
		{"0 0 0 * *", `the day-of-month field "0": 0 is below the minimum 1; a day of the month is 1-31`},
		{"0 0 32 * *", `the day-of-month field "32": 32 is above the maximum 31`},
		{"0 0 * 13 *", `the month field "13": 13 is above the maximum 12; a month is 1-12 or jan-dec`},
		{"0 0 * foo *", `the month field "foo": "foo" is not a number or a name`},
		{"0 3 * * 7", `the day-of-week field "7": 7 is above the maximum 6; a day of the week is 0-6 (0 is Sunday) or sun-sat`},
		{"0 3 * * sunday", `the day-of-week field "sunday": "sunday" is not a number or a name`},
		{"5-3 * * * *", "the range 5-3 runs backwards"},
		{"*/0 * * * *", "a step (after /) is a positive number"},
		{"1-2-3 * * * *", `"1-2-3" holds more than one -`},
		{"*/2/3 * * * *", `"*/2/3" holds more than one /`},
		{"1,,2 * * * *", `the minute field "1,,2" has an empty item in its list`},
		{"0 0 * * mon,", `the day-of-week field "mon," has an empty item`},
		{"+5 * * * *", `holds '+' at character 1`},
		{"0 3 * * *\u00a0", `holds '\u00a0' at character 10`},
		{"0 3 * * mon\x1b", `holds '\x1b' at character 12`},
		{"0 3 * * mön", `holds 'ö' at character 10`},
		{"0 0 30 2 *", "names no time that ever comes (such as 30 February)"},
		{"0 0 31 4,6,9,11 *", "names no time that ever comes"},
	}
	for _, c := range cases {
		_, err := schedule.ParseCron(c.expr)
		if err == nil {
			t.Errorf("ParseCron(%q) = nil error, want %q", c.expr, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseCron(%q) = %q, want it to hold %q", c.expr, err, c.want)
		}
	}
	for _, ok := range []string{
		"0 3 * * *", "  15   3 * * *  ", "0\t3 * * *", "*/15 0-6,22-23 1-7 * mon", "0 0 1 jan,JUL *", "0 0 29 2 *",
		"0 0 31 4 mon", "0 0 * * 0", "0 0 * * 6", "59 23 31 12 sat", "0 12 ? * ?", "5/15 * * * *", "@hourly", "@MONTHLY",
	} {
		if _, err := schedule.ParseCron(ok); err != nil {
			t.Errorf("ParseCron(%q): %v", ok, err)
		}
	}
}

func TestZone(t *testing.T) {
	for _, name := range []string{"", "UTC", "Europe/Berlin", "America/New_York", "America/Argentina/Buenos_Aires",
		"Etc/GMT+5", "Etc/GMT-14", "America/Port-au-Prince", "EST5EDT", "Asia/Kolkata"} {
		loc, err := schedule.Zone(name)
		if err != nil {
			t.Errorf("Zone(%q): %v", name, err)
			continue
		}
		if want := name; want != "" && loc.String() != want {
			t.Errorf("Zone(%q) is %s", name, loc)
		}
	}
	cases := []struct{ name, want string }{
		{"Mars/Olympus", `time zone "Mars/Olympus" is not an IANA zone name: write one such as Europe/Berlin`},
		{"Local", `time zone "Local" depends on the machine`},
		{"local", "depends on the machine"},
		{"localtime", "depends on the machine"},
		{"utc", "zone names are case-sensitive; write UTC"},
		{"Europe//Berlin", "is not an IANA zone name"},
		{"./UTC", "is not an IANA zone name"},
		{"Europe/../Europe/Berlin", "is not an IANA zone name"},
		{"/usr/share/zoneinfo/UTC", "is not an IANA zone name"},
		{"Europe/Berlin ", "is not an IANA zone name"},
		{"UTC+2", "is not an IANA zone name"},
		{"CET/", "is not an IANA zone name"},
	}
	for _, c := range cases {
		_, err := schedule.Zone(c.name)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Zone(%q) = %v, want an error holding %q", c.name, err, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	c := mustParse(t, "15 3 * * *", "Europe/Berlin")
	if c.Location().String() != "Europe/Berlin" {
		t.Errorf("Location() = %s", c.Location())
	}
	if c := mustParse(t, "15 3 * * *", ""); c.Location() != time.UTC {
		t.Errorf("no zone: Location() = %s, want UTC", c.Location())
	}
	// The zone is checked first, then the expression: each error says
	// which is wrong.
	for _, s := range []schema.Schedule{
		{Cron: "15 3 * * *", TimeZone: "Mars/Olympus"},
		{Cron: "61 3 * * *", TimeZone: "UTC"},
	} {
		if _, err := schedule.Parse(&s); err == nil {
			t.Errorf("Parse(%+v) = nil error", s)
		} else if !strings.Contains(err.Error(), "time zone") && !strings.Contains(err.Error(), "cron") {
			t.Errorf("Parse(%+v): %v does not say what is wrong", s, err)
		}
	}
}

var cronPattern = regexp.MustCompile(schema.CronPattern)

// fuzzZones are zones with daylight saving of every kind: an hour, half an
// hour, at midnight, south of the equator, and none.
var fuzzZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana",
	"America/Santiago", "Asia/Kolkata", "Pacific/Chatham", "Europe/London"}

// FuzzParseCron: ParseCron never panics; what it accepts, schema.CronPattern
// (the JSON Schema's and #Job's) matches and Parse accepts in every zone,
// and from any instant of 2000-2090 Next finds a later time,
// NextN gives strictly increasing times whose wall-clock readings in the
// zone strictly increase too (each wall-clock time launches once), and Due
// counts what Next walks.
func FuzzParseCron(f *testing.F) {
	for _, s := range []string{"15 3 * * *", "*/20 * * * *", "30 2 * * *", "0 1-3 * * sun", "@hourly", "@Weekly",
		"0 0 29 2 *", "0 0 30 2 *", "0 0 31 4 mon", "*/7 */5 1,15 jan-mar,oct ?", "0 3 * * 7", "@every 1m",
		"TZ=UTC 0 0 * * *", "0 0 3 * * *", "59 23 31 12 *", "0-59/59 0-23/23 1-31/30 1-12/11 0-6/6"} {
		f.Add(s, int64(1774746000), uint8(1))
	}
	f.Fuzz(func(t *testing.T, expr string, unix int64, zone uint8) {
		if _, err := schedule.ParseCron(expr); err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		if !strings.Contains(expr, "\t") && !cronPattern.MatchString(expr) {
			t.Fatalf("ParseCron accepts %q, schema.CronPattern (the JSON Schema's) does not", expr)
		}
		name := fuzzZones[int(zone)%len(fuzzZones)]
		c, err := schedule.Parse(&schema.Schedule{Cron: expr, TimeZone: name})
		if err != nil {
			t.Fatalf("ParseCron accepts %q, Parse in %s does not: %v", expr, name, err)
		}
		lo, hi := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2090, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		from := time.Unix(lo+(unix%(hi-lo)+(hi-lo))%(hi-lo), unix&0x3fffffff).UTC()
		n := c.Next(from)
		if !n.After(from) {
			t.Fatalf("%s in %s: Next(%s) = %s, not after it", expr, name, from, n)
		}
		times := c.NextN(from, 40)
		if len(times) < 40 {
			// Only 29 February alone runs out, from March 2096 on: 2100
			// is no leap year, and Next looks five years ahead.
			if last := times[len(times)-1]; last.Year() < 2096 {
				t.Fatalf("%s in %s: NextN(%s, 40) gave %d, the last %s", expr, name, from, len(times), last)
			}
		}
		if !times[0].Equal(n) {
			t.Fatalf("%s in %s: NextN starts at %s, Next is %s", expr, name, times[0], n)
		}
		const wall = "2006-01-02 15:04:05"
		for i := 1; i < len(times); i++ {
			if !times[i].After(times[i-1]) {
				t.Fatalf("%s in %s: NextN not strictly increasing: %s then %s", expr, name, times[i-1], times[i])
			}
			a, b := times[i-1].In(c.Location()).Format(wall), times[i].In(c.Location()).Format(wall)
			if a >= b {
				t.Fatalf("%s in %s: the wall clock reads %s, then %s (%s then %s)", expr, name, a, b, times[i-1], times[i])
			}
		}
		last := times[len(times)-1]
		if d := c.Due(from, last, 1000); d.Count != len(times) || !d.First.Equal(times[0]) || !d.Last.Equal(last) {
			t.Fatalf("%s in %s: Due(%s, %s) = %+v, NextN walked %d", expr, name, from, last, d, len(times))
		}
		if d := c.Due(from, last, 3); len(times) >= 3 && (d.Count != 3 || !d.First.Equal(times[0]) || !d.Last.Equal(last)) {
			t.Fatalf("%s in %s: Due(%s, %s, 3) = %+v, want 3 up to %s", expr, name, from, last, d, last)
		}
		// The first launches are those of the plain walk, where it is short.
		if until := from.Add(3 * 24 * time.Hour); times[0].Before(until) {
			want := walk(t, expr, c.Location(), from, until)
			for i, w := range want[:min(len(want), len(times))] {
				if !times[i].Equal(w) {
					t.Fatalf("%s in %s after %s: launch %d is %s, the walk says %s", expr, name, from, i, times[i], w)
				}
			}
		}
	})
}

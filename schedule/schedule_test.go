package schedule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
)

func mustParse(t testing.TB, cron, zone string) *schedule.Cron {
	t.Helper()
	c, err := schedule.Parse(&schema.Schedule{Cron: cron, TimeZone: zone})
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", cron, zone, err)
	}
	return c
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

// fuzzZones are zones with daylight saving of every kind: an hour, half an
// hour, at midnight, south of the equator, and none.
var fuzzZones = []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana",
	"America/Santiago", "Asia/Kolkata", "Pacific/Chatham", "Europe/London"}

// FuzzParseCron: ParseCron never panics; what it accepts, Parse accepts in
// every zone, and from any instant of 2000-2090 Next finds a later time,
// NextN gives strictly increasing times whose wall-clock readings in the
// zone strictly increase too (each wall-clock time launches once), and Due
// counts what Next walks.

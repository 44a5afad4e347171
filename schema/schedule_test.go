package schema_test

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
)

func TestNormalizeSchedule(t *testing.T) {
	tests := []struct {
		in, want schema.Schedule
		canon    string
	}{
		{schema.Schedule{Cron: "15 3 * * *", TimeZone: "Europe/Berlin", ProhibitOverlap: true},
			schema.Schedule{Cron: "15 3 * * *", TimeZone: "Europe/Berlin", ProhibitOverlap: true},
			`"schedule":{"cron":"15 3 * * *","prohibit_overlap":true,"time_zone":"Europe/Berlin"}`},
		{schema.Schedule{Cron: "  15\t 3 *  * *  "},
			schema.Schedule{Cron: "15 3 * * *", TimeZone: "UTC"},
			`"schedule":{"cron":"15 3 * * *","prohibit_overlap":false,"time_zone":"UTC"}`},
		{schema.Schedule{Cron: "@Daily", TimeZone: "UTC", ProhibitOverlap: true},
			schema.Schedule{Cron: "@daily", TimeZone: "UTC", ProhibitOverlap: true},
			`"schedule":{"cron":"@daily","prohibit_overlap":true,"time_zone":"UTC"}`},
		{schema.Schedule{Cron: "0 9 1 JAN,Jul Mon-FRI", TimeZone: "America/New_York"},
			schema.Schedule{Cron: "0 9 1 jan,jul mon-fri", TimeZone: "America/New_York"},
			`"schedule":{"cron":"0 9 1 jan,jul mon-fri","prohibit_overlap":false,"time_zone":"America/New_York"}`},
	}
	for _, tt := range tests {
		t.Run(tt.in.Cron, func(t *testing.T) {
			j, _ := minimalJob(schema.Batch, schema.Exec, false)
			s := tt.in
			j.Schedule = &s
			schema.Normalize(&j)
			if !reflect.DeepEqual(*j.Schedule, tt.want) {
				t.Errorf("schedule = %+v, want %+v", *j.Schedule, tt.want)
			}
			canon := j.Canonical()
			if !bytes.Contains(canon, []byte(tt.canon)) {
				t.Errorf("canonical form lacks %s:\n%s", tt.canon, canon)
			}
			schema.Normalize(&j)
			if again := j.Canonical(); !bytes.Equal(again, canon) {
				t.Errorf("Normalize is not idempotent:\n%s\n%s", canon, again)
			}
			back, err := schema.FromCanonical(canon)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Schedule, j.Schedule) {
				t.Errorf("FromCanonical gives %+v, want %+v", back.Schedule, j.Schedule)
			}
		})
	}
}

// TestScheduleKeepsOldHashes proves docs/spec.md section 3 for schedule: a
// job of any type and engine that has none has the bytes and hash of the
// first release of muster/v1 (the hashes TestLaterFieldsKeepOldHashes pins
// too), and one with a schedule hashes differently, by what the schedule
// says.
func TestScheduleKeepsOldHashes(t *testing.T) {
	for _, typ := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
		for _, e := range []schema.Engine{schema.Docker, schema.Exec, schema.Wasm} {
			j, _ := minimalJob(typ, e, false)
			schema.Normalize(&j)
			before := j.Canonical()
			if got, want := j.Hash(), firstReleaseHashes[string(typ)+"/"+string(e)]; got != want {
				t.Errorf("%s/%s without a schedule: hash %s, in the first release %s", typ, e, got, want)
			}
			if bytes.Contains(before, []byte(`"schedule"`)) {
				t.Errorf("%s/%s: the canonical form holds a schedule: %s", typ, e, before)
			}
			if !typ.LongRunning() {
				// Every schedule, and every change to one, is a new hash.
				seen := map[string]string{j.Hash(): "no schedule"}
				for _, s := range []schema.Schedule{
					{Cron: "15 3 * * *"},
					{Cron: "15 3 * * *", ProhibitOverlap: true},
					{Cron: "15 3 * * *", TimeZone: "Europe/Berlin", ProhibitOverlap: true},
					{Cron: "@daily", ProhibitOverlap: true},
				} {
					k := j
					k.Schedule = &s
					schema.Normalize(&k)
					h := k.Hash()
					if prev, dup := seen[h]; dup {
						t.Errorf("%s/%s: schedule %+v hashes as %s does: %s", typ, e, s, prev, h)
					}
					seen[h] = s.Cron + " " + s.TimeZone
				}
			}
		}
	}
}

// TestSchedulePatterns checks the patterns of the JSON Schema and #Job
// against package schedule, which the validator uses: the patterns only
// shape a cron expression and a zone name, so they must match everything
// schedule accepts (a tab aside, which no one-line field holds), on
// hand-picked and random strings.
func TestSchedulePatterns(t *testing.T) {
	cronRE, zoneRE := regexp.MustCompile(schema.CronPattern), regexp.MustCompile(schema.TimeZonePattern)
	crons := append([]string{"15 3 * * *", " 15  3 * * * ", "@daily", "@MONTHLY", "*/20 0-6,22 ? jan-MAR mon-fri", "0 0 29 2 *",
		"@every 5m", "@yearly", "TZ=UTC 0 0 * * *", "0 0 3 * * *", "0 3 * *", "", " ", "0 3 * * 7", "+5 * * * *", "1,,2 * * * *", "0 3 * * *\u00a0"},
		randomStrings(7, 5000, 12, []string{"0", "5", "12", "30", "*", "?", ",", "-", "/", " ", "  ", "jan", "MON", "@", "daily", "x", "+", "\t"})...)
	for _, s := range crons {
		_, err := schedule.ParseCron(s)
		if err == nil && !strings.Contains(s, "\t") && !cronRE.MatchString(s) {
			t.Errorf("cron %q: package schedule accepts it, CronPattern does not", s)
		}
	}
	zones := append([]string{"UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5", "Etc/GMT-14", "America/Port-au-Prince",
		"EST5EDT", "Local", "Mars/Olympus", "Europe//Berlin", "./UTC", "utc"},
		randomStrings(8, 3000, 4, []string{"Europe", "Berlin", "America", "New_York", "UTC", "Etc", "GMT", "+5", "/", "-", "_", ".", "..", " "})...)
	for _, s := range zones {
		_, err := schedule.Zone(s)
		if err == nil && s != "" && !zoneRE.MatchString(s) {
			t.Errorf("time zone %q: package schedule accepts it, TimeZonePattern does not", s)
		}
	}
}

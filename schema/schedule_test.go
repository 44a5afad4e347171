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
	pinned := map[string]string{
		"batch/docker":   "sha256:4a2fcfd981329a6cce20a13b662550f8699e8cd9f48ad46f2df0870fd691186c",
		"batch/exec":     "sha256:a3fb959e327a9fcaf04e34bf75961c2a1399b4065326df5a12c670e1a6fd271f",
		"batch/wasm":     "sha256:1a27fbabaaf338ce7f7e8297d49a7e0566fea6b78a3bbdbfe907ee97f64d8c1e",
		"ops/docker":     "sha256:c447d546f924516436c0f6bf83459240a605d64e19c1bf2e81b8f6b75cd5d27d",
		"ops/exec":       "sha256:a946812976be1a9303c8ca41b26b72ba58d4d537131b06f98024a3847ad6f7e2",
		"ops/wasm":       "sha256:05bbba15485d2eec5d022550c801646e7ec8bcd1ddaadca4690327b242e1dbbf",
		"service/docker": "sha256:f06ecc35c4e8b325f77897fb64fc9066c7490484cb5aa1f3bb86f8c0adf0d01e",
		"service/exec":   "sha256:3e40257f42aabd4c8f11498f31c2bde35c646ff25e3a8ff110a8ea6304ae5a39",
		"service/wasm":   "sha256:9729d9d68d2da747eedbca050aa6a2b9344c34350655ad72fbed00091ac1dabd",
		"daemon/docker":  "sha256:5d7e0dda3f225bb30237c19a750e49f80956efe42a5f4ada7384ffa13fef17ad",
		"daemon/exec":    "sha256:35659f6d3920d06641cb53a0415b7a9d872bdb62b67c553e131e0d61ee01a856",
		"daemon/wasm":    "sha256:842b7dcc8005be37b588915c40318d1cbbcb5955f927f859fe474c6a207bd748",
	}
	for _, typ := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
		for _, e := range []schema.Engine{schema.Docker, schema.Exec, schema.Wasm} {
			j, _ := minimalJob(typ, e, false)
			schema.Normalize(&j)
			before := j.Canonical()
			if got, want := j.Hash(), pinned[string(typ)+"/"+string(e)]; got != want {
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

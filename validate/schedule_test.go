package validate_test

import (
	"strings"
	"testing"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
)

// periodic is a job of type typ ("" for the default) with the schedule
// given (a JSON value).
func periodic(typ, schedule string) string {
	t := ""
	if typ != "" {
		t = `"type":"` + typ + `",`
	}
	return `{"name":"a",` + t + `"task":{"engine":"exec","cmd":["run"]},"schedule":` + schedule + `}`
}

func TestScheduleValid(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // the schedule in the canonical form; "" for none
	}{
		{"defaults: UTC, and no overlap", periodic("", `{"cron":"15 3 * * *"}`),
			`"schedule":{"cron":"15 3 * * *","prohibit_overlap":true,"time_zone":"UTC"}`},
		{"prohibit_overlap false stays false", periodic("", `{"cron":"15 3 * * *","prohibit_overlap":false}`),
			`"schedule":{"cron":"15 3 * * *","prohibit_overlap":false,"time_zone":"UTC"}`},
		{"prohibit_overlap true written", periodic("batch", `{"cron":"15 3 * * *","prohibit_overlap":true,"time_zone":"UTC"}`),
			`"schedule":{"cron":"15 3 * * *","prohibit_overlap":true,"time_zone":"UTC"}`},
		{"ops, a zone, a descriptor in capitals", periodic("ops", `{"cron":"@Weekly","time_zone":"Europe/Berlin"}`),
			`"schedule":{"cron":"@weekly","prohibit_overlap":true,"time_zone":"Europe/Berlin"}`},
		{"spaces and names normalized", periodic("", `{"cron":"  */20   0-6,22 ? JAN-Mar MON-fri ","time_zone":"America/New_York"}`),
			`"schedule":{"cron":"*/20 0-6,22 ? jan-mar mon-fri","prohibit_overlap":true,"time_zone":"America/New_York"}`},
		{"leap day", periodic("", `{"cron":"0 0 29 2 *","time_zone":"Etc/GMT+5"}`),
			`"schedule":{"cron":"0 0 29 2 *","prohibit_overlap":true,"time_zone":"Etc/GMT+5"}`},
		{"null time_zone and prohibit_overlap are unset", periodic("", `{"cron":"@hourly","time_zone":null,"prohibit_overlap":null}`),
			`"schedule":{"cron":"@hourly","prohibit_overlap":true,"time_zone":"UTC"}`},
		{"null schedule is none", periodic("", `null`), ""},
		{"null schedule on a service is none", `{"name":"a","type":"service","task":{"engine":"exec","cmd":["run"]},"schedule":null}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, diags := compile(t, tt.src)
			if j == nil {
				t.Fatalf("want a job, got:\n%v", diags)
			}
			got := string(j.Canonical())
			switch {
			case tt.want == "" && (strings.Contains(got, `"schedule"`) || j.Schedule != nil):
				t.Errorf("want no schedule, got %+v:\n%s", j.Schedule, got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("canonical form lacks %s:\n%s", tt.want, got)
			}
		})
	}
}

func TestScheduleErrors(t *testing.T) {
	tests := []errorCase{
		// Where a schedule may be.
		{periodic("service", `{"cron":"15 3 * * *"}`),
			[]string{`schedule: schedule applies only to batch and ops jobs; a service job keeps running and is never launched again on a clock: remove schedule, or make the job a batch or ops job that runs to completion`},
			[]string{`"schedule"`}},
		{periodic("daemon", `{"cron":"nonsense"}`),
			[]string{`schedule: schedule applies only to batch and ops jobs; a daemon job keeps running`}, []string{`"schedule"`}},

		// Its shape.
		{periodic("", `"15 3 * * *"`),
			[]string{`schedule: schedule must be a map of fields, not string "15 3 * * *": write the expression as its cron, schedule: {cron: "15 3 * * *"}`},
			[]string{`"15 3 * * *"`}},
		{periodic("", `["15 3 * * *"]`),
			[]string{`schedule: schedule must be a map of fields, not list`}, []string{`["15 3 * * *"]`}},
		{periodic("", `{}`),
			[]string{`schedule.cron: a schedule needs a cron expression, such as cron: "15 3 * * *" (03:15 every day) or cron: "@daily"`}, []string{`"schedule"`}},
		{periodic("", `{"cron":null,"time_zone":"UTC"}`),
			[]string{`schedule.cron: a schedule needs a cron expression`}, []string{`"schedule"`}},
		{periodic("", `{"cron":"@daily","timezone":"UTC"}`),
			[]string{`schedule.timezone: unknown field "timezone"; did you mean "time_zone"?`}, []string{`"timezone"`}},
		{periodic("", `{"cron":"@daily","timeZone":"UTC"}`),
			[]string{`schedule.timeZone: unknown field "timeZone"; did you mean "time_zone"?`}, []string{`"timeZone"`}},
		{periodic("", `{"crons":["@daily"]}`),
			[]string{`schedule.cron: a schedule needs a cron expression`, `schedule.crons: unknown field "crons"; did you mean "cron"?`}, []string{`"schedule"`, `"crons"`}},
		{periodic("", `{"cron":"@daily","prohibit_overlaps":true}`),
			[]string{`schedule.prohibit_overlaps: unknown field "prohibit_overlaps"; did you mean "prohibit_overlap"?`}, []string{`"prohibit_overlaps"`}},
		{periodic("", `{"cron":"@daily","concurrency_policy":"Forbid"}`),
			[]string{`schedule.concurrency_policy: unknown field "concurrency_policy" in schedule (known fields: cron, time_zone, prohibit_overlap)`}, []string{`"concurrency_policy"`}},
		{`{"name":"a","task":{"engine":"exec","cmd":["run"]},"cron":"@daily"}`,
			[]string{`cron: unknown field "cron" here; it belongs in schedule.cron`}, []string{`"cron"`}},
		{`{"name":"a","task":{"engine":"exec","cmd":["run"],"time_zone":"UTC"}}`,
			[]string{`task.time_zone: unknown field "time_zone" here; it belongs in schedule.time_zone`}, []string{`"time_zone"`}},
		{periodic("", `{"cron":"@daily","cron":"@hourly"}`),
			[]string{`schedule.cron: duplicate field "cron" (first set at line 1)`}, []string{`"cron":"@hourly"`}},

		// cron.
		{periodic("", `{"cron":"0 15 3 * * *"}`),
			[]string{`schedule.cron: cron "0 15 3 * * *" has 6 fields: want five (minute hour day-of-month month day-of-week); a launch time has no seconds, nor a year`},
			[]string{`"0 15 3 * * *"`}},
		{periodic("", `{"cron":"@every 5m"}`),
			[]string{`schedule.cron: cron "@every 5m": unknown descriptor: want one of @hourly, @daily, @weekly, @monthly, or five fields; @every is not part of the spec: write the interval as fields, such as "*/5 * * * *" for every five minutes`},
			[]string{`"@every 5m"`}},
		{periodic("", `{"cron":"61 * * * *"}`),
			[]string{`schedule.cron: cron "61 * * * *": the minute field "61": 61 is above the maximum 59; a minute is 0-59`}, []string{`"61 * * * *"`}},
		{periodic("", `{"cron":"0 3 * * 7"}`),
			[]string{`schedule.cron: cron "0 3 * * 7": the day-of-week field "7": 7 is above the maximum 6; a day of the week is 0-6 (0 is Sunday) or sun-sat`}, []string{`"0 3 * * 7"`}},
		{periodic("", `{"cron":"0 0 30 2 *"}`),
			[]string{`schedule.cron: cron "0 0 30 2 *" names no time that ever comes (such as 30 February)`}, []string{`"0 0 30 2 *"`}},
		{periodic("", `{"cron":"TZ=Europe/Berlin 0 3 * * *"}`),
			[]string{`schedule.cron: cron "TZ=Europe/Berlin 0 3 * * *" names a zone: set schedule.time_zone instead`}, []string{`"TZ=Europe/Berlin 0 3 * * *"`}},
		{periodic("", `{"cron":""}`),
			[]string{`schedule.cron: the cron expression is empty: want five fields`}, []string{`""`}},
		{periodic("", `{"cron":"0 3 *\t* *"}`),
			[]string{`schedule.cron: schedule.cron holds the control character U+0009 (tab)`}, []string{`"0 3 *\t* *"`}},
		{periodic("", `{"cron":15}`),
			[]string{`schedule.cron: schedule.cron must be a string, not number 15`}, []string{`15}`}},

		// time_zone.
		{periodic("", `{"cron":"@daily","time_zone":"Mars/Olympus"}`),
			[]string{`schedule.time_zone: time zone "Mars/Olympus" is not an IANA zone name: write one such as Europe/Berlin, America/New_York or UTC`}, []string{`"Mars/Olympus"`}},
		{periodic("", `{"cron":"@daily","time_zone":"Local"}`),
			[]string{`schedule.time_zone: time zone "Local" depends on the machine: name an IANA zone such as Europe/Berlin, or UTC`}, []string{`"Local"`}},
		{periodic("", `{"cron":"@daily","time_zone":"utc"}`),
			[]string{`schedule.time_zone: time zone "utc" is not an IANA zone name: zone names are case-sensitive; write UTC`}, []string{`"utc"`}},
		{periodic("", `{"cron":"@daily","time_zone":"Europe//Berlin"}`),
			[]string{`schedule.time_zone: time zone "Europe//Berlin" is not an IANA zone name`}, []string{`"Europe//Berlin"`}},
		{periodic("", `{"cron":"@daily","time_zone":""}`),
			[]string{`schedule.time_zone: schedule.time_zone is empty: name an IANA zone such as "Europe/Berlin", or leave time_zone out for UTC`}, []string{`""`}},
		{periodic("", `{"cron":"@daily","time_zone":1}`),
			[]string{`schedule.time_zone: schedule.time_zone must be a string, not number 1`}, []string{`1}`}},

		// prohibit_overlap.
		{periodic("", `{"cron":"@daily","prohibit_overlap":"yes"}`),
			[]string{`schedule.prohibit_overlap: schedule.prohibit_overlap must be true or false, not string "yes"`}, []string{`"yes"`}},

		// Every error at once.
		{periodic("", `{"cron":"@every 1h","time_zone":"Mars/Olympus","prohibit_overlap":1}`),
			[]string{`schedule.cron: cron "@every 1h": unknown descriptor`, `schedule.time_zone: time zone "Mars/Olympus"`, `schedule.prohibit_overlap: schedule.prohibit_overlap must be true or false, not number 1`},
			[]string{`"@every 1h"`, `"Mars/Olympus"`, `1}`}},
	}
	checkErrors(t, tests)
}

// TestScheduleInEveryFormat compiles one scheduled job written in each
// format, with prohibit_overlap left out and written false: every format
// gives the same canonical bytes, with the default true where it is left
// out.
func TestScheduleInEveryFormat(t *testing.T) {
	type source struct {
		file string
		f    compiler.Format
		src  string
	}
	for _, c := range []struct {
		want    string
		sources []source
	}{
		{`"schedule":{"cron":"15 3 * * *","prohibit_overlap":true,"time_zone":"Europe/Berlin"}`, []source{
			{"s.yaml", compiler.YAML, "name: s\ntask: {engine: exec, cmd: [x]}\nschedule:\n  cron: 15 3 * * *\n  time_zone: Europe/Berlin\n"},
			{"s.json", compiler.JSON, `{"name":"s","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"15 3 * * *","time_zone":"Europe/Berlin"}}`},
			{"s.hcl", compiler.HCL, "job \"s\" {\n  task {\n    engine = \"exec\"\n    cmd    = [\"x\"]\n  }\n\n  schedule {\n    cron      = \"15 3 * * *\"\n    time_zone = \"Europe/Berlin\"\n  }\n}\n"},
			{"s.cue", compiler.CUE, `name: "s", task: {engine: "exec", cmd: ["x"]}, schedule: {cron: "15 3 * * *", time_zone: "Europe/Berlin"}`},
		}},
		{`"schedule":{"cron":"@daily","prohibit_overlap":false,"time_zone":"UTC"}`, []source{
			{"s.yaml", compiler.YAML, "name: s\ntype: ops\ntask: {engine: exec, cmd: [x]}\nschedule: {cron: \"@daily\", prohibit_overlap: false}\n"},
			{"s.json", compiler.JSON, `{"name":"s","type":"ops","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@daily","prohibit_overlap":false}}`},
			{"s.hcl", compiler.HCL, "job \"s\" {\n  type = \"ops\"\n\n  task {\n    engine = \"exec\"\n    cmd    = [\"x\"]\n  }\n\n  schedule {\n    cron             = \"@daily\"\n    prohibit_overlap = false\n  }\n}\n"},
			{"s.cue", compiler.CUE, `name: "s", type: "ops", task: {engine: "exec", cmd: ["x"]}, schedule: {cron: "@daily", prohibit_overlap: false}`},
		}},
	} {
		var first []byte
		for _, s := range c.sources {
			res := compiler.Compile(s.file, []byte(s.src), s.f, lang.Options{})
			if res.Diags.HasErrors() || len(res.Jobs) != 1 {
				t.Errorf("%s: %v", s.file, res.Diags)
				continue
			}
			canon := res.Jobs[0].Spec.Canonical()
			if !strings.Contains(string(canon), c.want) {
				t.Errorf("%s: canonical form lacks %s:\n%s", s.file, c.want, canon)
			}
			if first == nil {
				first = canon
			} else if string(canon) != string(first) {
				t.Errorf("%s differs from %s:\n%s\n%s", s.file, c.sources[0].file, canon, first)
			}
		}
	}
}

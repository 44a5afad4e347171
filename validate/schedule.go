package validate

import (
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schedule"
	"github.com/muster-dev/muster/schema"
)

// schedule decodes the job's schedule, the field f. It reads the job's
// type from d (job decodes it first). A schedule that does not write
// prohibit_overlap prohibits overlap: the default is true.
func (d *decoder) schedule(f *lang.Field) *schema.Schedule {
	const p = "schedule"
	if d.typeKnown && d.jobType.LongRunning() {
		d.errorf(f.KeyRange, p, "schedule applies only to batch and ops jobs; %s %s job keeps running and is never launched again on a clock: remove schedule, or make the job a batch or ops job that runs to completion",
			article(string(d.jobType)), d.jobType)
		return nil
	}
	if f.Value.Kind == lang.String {
		// schedule: "0 3 * * *", as a Kubernetes CronJob writes it.
		d.errorf(f.Value.Range, p, `schedule must be a map of fields, not %s: write the expression as its cron, schedule: {cron: %q}`,
			f.Value.Describe(), f.Value.Str)
		return nil
	}
	fs, ok := d.fields(f.Value, p, scheduleFields)
	if !ok {
		return nil
	}
	s := &schema.Schedule{ProhibitOverlap: true}
	if cf := fs["cron"]; cf != nil && present(cf.Value) {
		if expr, ok := d.str(cf.Value, p+".cron"); ok {
			if _, err := schedule.ParseCron(expr); err != nil {
				d.errorf(cf.Value.Range, p+".cron", "%v", err)
			}
			s.Cron = expr
		}
	} else {
		d.errorf(firstRange(f.KeyRange, f.Value.Range), p+".cron", `a schedule needs a cron expression, such as cron: "15 3 * * *" (03:15 every day) or cron: "@daily"`)
	}
	if zf := fs["time_zone"]; zf != nil && present(zf.Value) {
		if name, ok := d.str(zf.Value, p+".time_zone"); ok {
			if name == "" {
				d.errorf(zf.Value.Range, p+".time_zone", `schedule.time_zone is empty: name an IANA zone such as "Europe/Berlin", or leave time_zone out for %s`, schema.DefaultTimeZone)
			} else if _, err := schedule.Zone(name); err != nil {
				d.errorf(zf.Value.Range, p+".time_zone", "%v", err)
			}
			s.TimeZone = name
		}
	}
	if of := fs["prohibit_overlap"]; of != nil && present(of.Value) {
		s.ProhibitOverlap, _ = d.boolean(of.Value, p+".prohibit_overlap")
	}
	return s
}

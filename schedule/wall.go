package schedule

import "time"

// The clock of a zone, read as faces: the wall-clock reading of an
// instant, written as a time in UTC (03:15 in Berlin is the face 03:15
// UTC). Cron expressions are matched against faces in UTC, where robfig's
// arithmetic meets no daylight saving: in a zone it steps hours and
// minutes across the changes, and at a change of half an hour
// (Australia/Lord_Howe) it returns times the expression does not name and
// misses times it does.

// maxOffset bounds the offset of every zone from UTC (Pacific/Kiritimati
// is +14, Etc/GMT+12 is -12), with room to spare.
const maxOffset = 15 * time.Hour

// face returns the reading of the zone's clock at t.
func (c *Cron) face(t time.Time) time.Time {
	_, off := t.In(c.loc).Zone()
	return t.UTC().Add(time.Duration(off) * time.Second)
}

// shown returns the latest face the clock has shown at or before t: the
// face of t, unless t falls in the hour (or half hour) that the clocks went
// back over, whose faces were all shown before the change.
func (c *Cron) shown(t time.Time) time.Time {
	f := c.face(t)
	if start, _ := t.In(c.loc).ZoneBounds(); !start.IsZero() && !start.After(t) {
		if before := c.face(start.Add(-time.Nanosecond)); before.After(f) {
			return before
		}
	}
	return f
}

// instant returns the first instant at which the clock shows face or, when
// the clocks jump forward over face, the instant of the jump.
func (c *Cron) instant(face time.Time) time.Time {
	// The walk starts where the clock shows an earlier face whatever the
	// offset, and goes period by period (one offset each).
	for s := face.Add(-maxOffset); ; {
		t := s.In(c.loc)
		_, off := t.Zone()
		_, end := t.ZoneBounds()
		if end.IsZero() {
			end = face.Add(maxOffset) // no change ahead: the period holds face
		} else if !end.After(s) {
			// Beyond a zone's last listed transition (2037 in most zone
			// files) Go works the periods out from the zone's rule a
			// year at a time, and takes a year for 365 days: on 31
			// December of a leap year ZoneBounds ends the period at that
			// day's start, before s. No zone changes its clocks that day.
			end = s.Add(24 * time.Hour)
		}
		offset := time.Duration(off) * time.Second
		if face.Before(s.Add(offset)) {
			return s // the clocks jumped from before face to after it at s
		}
		if u := face.Add(-offset); u.Before(end) {
			return u
		}
		s = end
	}
}

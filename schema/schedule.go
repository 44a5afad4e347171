package schema

// DefaultTimeZone is the zone of a schedule that names none.
const DefaultTimeZone = "UTC"

// Schedule makes a batch or ops job periodic: the leading control plane
// launches the job's current version at each time Cron names in TimeZone.
// Added after v1: a Job without one has a nil Schedule, absent from the
// canonical form. The zero Schedule is not valid: it needs a Cron.
type Schedule struct {
	// Cron is five fields (minute hour day-of-month month day-of-week) or
	// one of @hourly, @daily, @weekly, @monthly; once normalized, fields
	// are separated by one space, and descriptors and the names of months
	// and days are lower case.
	Cron string `json:"cron"`
	// TimeZone is an IANA zone name, DefaultTimeZone when unset.
	TimeZone string `json:"time_zone"`
	// ProhibitOverlap skips (and records) a launch while the job's
	// previous launch still runs. Validation writes true where the file
	// leaves it out; a Schedule built in Go says what it means.
	ProhibitOverlap bool `json:"prohibit_overlap"`
}

func (s *Schedule) document() object {
	return object{
		{"cron", s.Cron},
		{"time_zone", s.TimeZone},
		{"prohibit_overlap", s.ProhibitOverlap},
	}
}

package state

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Launch is one run of a batch or ops job's version that a schedule (or
// 'muster launch') started, or a time of its schedule that did not launch
// (skipped, missed). Each has its own id, executions (their EvalID is the
// launch's id) and outcome. The leading control plane writes them; the
// ids of scheduled launches are their times, so that two control planes
// that both think a time is due create one record, and launch once.
type Launch struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ID is LaunchID(ScheduledAt) for a time of the schedule, and "m" and
	// the time it was asked for plus a random suffix for 'muster launch'.
	ID string `json:"id"`
	// Version is the job version launched (for skipped and missed
	// records, the one that would have been).
	Version int `json:"version"`
	// Reason is why it launched: LaunchSchedule, LaunchCatchUp or
	// LaunchManual.
	Reason string `json:"reason"`
	// ScheduledAt is the time of the schedule it is for; zero for a
	// manual launch. For a missed record, the latest time it covers.
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	// State is one of LaunchStates.
	State   string `json:"state"`
	Message string `json:"message,omitempty"`
	// Missed, on a missed record, counts the times it covers, from
	// MissedFrom to ScheduledAt.
	Missed     int       `json:"missed,omitempty"`
	MissedFrom time.Time `json:"missed_from,omitzero"`
	// By names the control plane that created the record (an id of its
	// process), so that it knows the record for its own when the answer
	// to its create was lost.
	By string `json:"by,omitempty"`
	// Rollout is the record of the launch's run (the sets it rolled out,
	// how many executions completed and failed), nil until it started.
	Rollout   *Rollout  `json:"rollout,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`

	// kvRevision is the revision read, for compare-and-set.
	kvRevision uint64
}

// Launch reasons, the values of Launch.Reason.
const (
	LaunchSchedule = "schedule"
	LaunchCatchUp  = "catch-up"
	LaunchManual   = "manual"
)

// Launch states, the values of Launch.State.
const (
	LaunchRunning   = "running"
	LaunchQueued    = "queued"
	LaunchCompleted = "completed"
	LaunchFailed    = "failed"
	LaunchStopped   = "stopped"
	LaunchSkipped   = "skipped"
	LaunchMissed    = "missed"
)

// LaunchStates lists every launch state.
var LaunchStates = []string{LaunchRunning, LaunchQueued, LaunchCompleted, LaunchFailed, LaunchStopped, LaunchSkipped, LaunchMissed}

// Ended reports whether the launch is over (or never ran).
func (l *Launch) Ended() bool { return l.State != LaunchRunning && l.State != LaunchQueued }

// LaunchID is the id of the launch of a schedule's time t: its UTC time
// to the second, such as 20261204T170100Z.
func LaunchID(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// keepLaunches is how many records of a job are kept; older ones are
// removed as new ones come.
const keepLaunches = 100

func launchPrefix(ns, name string) string { return "launch." + ns + "." + name + "." }

func launchWhat(l *Launch) string { return "launch " + l.ID + " of " + jobWhat(l.Namespace, l.Name) }

func (l *Launch) check() error {
	if err := CheckJob(l.Namespace, l.Name); err != nil {
		return err
	}
	if err := checkToken("launch id", l.ID); err != nil {
		return err
	}
	if l.Version < 1 {
		return invalidf("%s: version %d is not a version", launchWhat(l), l.Version)
	}
	return checkState("launch state", l.State, LaunchStates)
}

// CreateLaunch records a new launch. A record of the same id that exists
// already is an error matching ErrConflict: another control plane made
// it, and it alone launches.
func (s *Store) CreateLaunch(ctx context.Context, l Launch) (Launch, error) {
	if err := l.check(); err != nil {
		return Launch{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return Launch{}, err
	}
	l.UpdatedAt = time.Now().UTC()
	if l.CreatedAt.IsZero() {
		l.CreatedAt = l.UpdatedAt
	}
	b, err := json.Marshal(l)
	if err != nil {
		return Launch{}, err
	}
	rev, err := s.kvCreate(ctx, kv, launchPrefix(l.Namespace, l.Name)+l.ID, b)
	if isCASFailure(err) {
		return Launch{}, &ConflictError{What: launchWhat(&l), Reason: "it was recorded already"}
	}
	if err != nil {
		return Launch{}, fmt.Errorf("record %s: %w", launchWhat(&l), err)
	}
	l.kvRevision = rev
	s.pruneLaunches(ctx, l.Namespace, l.Name)
	return l, nil
}

// UpdateLaunch writes l over the record it was read as (compare-and-set).
func (s *Store) UpdateLaunch(ctx context.Context, l Launch) (Launch, error) {
	if err := l.check(); err != nil {
		return Launch{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return Launch{}, err
	}
	l.UpdatedAt = time.Now().UTC()
	b, err := json.Marshal(l)
	if err != nil {
		return Launch{}, err
	}
	rev, err := s.kvUpdate(ctx, kv, launchPrefix(l.Namespace, l.Name)+l.ID, b, l.kvRevision)
	if isCASFailure(err) {
		return Launch{}, &ConflictError{What: launchWhat(&l), Base: l.kvRevision}
	}
	if err != nil {
		return Launch{}, fmt.Errorf("record %s: %w", launchWhat(&l), err)
	}
	l.kvRevision = rev
	return l, nil
}

// Launches returns the launch records of job ns/name, oldest first; with
// name "" those of every job of namespace ns, and with ns "" too those of
// every job.
func (s *Store) Launches(ctx context.Context, ns, name string) ([]Launch, error) {
	filter := "launch.>"
	switch {
	case name != "":
		if err := CheckJob(ns, name); err != nil {
			return nil, err
		}
		filter = launchPrefix(ns, name) + "*"
	case ns != "":
		filter = "launch." + ns + ".>"
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return nil, err
	}
	entries, err := watchValues(ctx, kv, filter)
	if err != nil {
		return nil, fmt.Errorf("read launches: %w", err)
	}
	out := make([]Launch, 0, len(entries))
	for _, e := range entries {
		var l Launch
		if err := json.Unmarshal(e.Value(), &l); err != nil {
			return nil, damagedf("decode %s: %v", e.Key(), err)
		}
		l.kvRevision = e.Revision()
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b Launch) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// pruneLaunches removes the oldest ended records of a job past
// keepLaunches. It is housekeeping: a failure leaves them for the next.
func (s *Store) pruneLaunches(ctx context.Context, ns, name string) {
	all, err := s.Launches(ctx, ns, name)
	if err != nil || len(all) <= keepLaunches {
		return
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return
	}
	for _, l := range all[:len(all)-keepLaunches] {
		if l.Ended() {
			_ = s.kvDelete(ctx, kv, launchPrefix(ns, name)+l.ID, l.kvRevision, true)
		}
	}
}

// AsStoredLaunch returns l as if read at revision rev (for fakes of the
// store in other packages' tests).
func AsStoredLaunch(l Launch, rev uint64) Launch { l.kvRevision = rev; return l }

// StoredRevision is the revision the launch was read or written at.
func (l *Launch) StoredRevision() uint64 { return l.kvRevision }

// Armed says since when the schedule of a job's version counts: the times
// before Since were not its to launch (the version was not applied yet,
// or the job was stopped). The leading control plane writes it when it
// arms a version's schedule; one that takes over reads it to know which
// times it missed.
type Armed struct {
	Version int       `json:"version"`
	Since   time.Time `json:"since"`
}

func armedKey(ns, name string) string { return "armed." + ns + "." + name }

// Arm records since when version's schedule of job ns/name counts.
func (s *Store) Arm(ctx context.Context, ns, name string, a Armed) error {
	if err := CheckJob(ns, name); err != nil {
		return err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if _, err := s.kvPut(ctx, kv, armedKey(ns, name), b); err != nil {
		return fmt.Errorf("record the schedule of %s: %w", jobWhat(ns, name), err)
	}
	return nil
}

// Armed returns what Arm recorded for job ns/name, or an error matching
// ErrNotFound.
func (s *Store) Armed(ctx context.Context, ns, name string) (Armed, error) {
	if err := CheckJob(ns, name); err != nil {
		return Armed{}, err
	}
	kv, err := s.kv(ctx, bucketJobs)
	if err != nil {
		return Armed{}, err
	}
	e, err := kvGet(ctx, kv, armedKey(ns, name))
	if isNotFound(err) {
		return Armed{}, notFound("schedule of %s", jobWhat(ns, name))
	}
	if err != nil {
		return Armed{}, fmt.Errorf("read the schedule of %s: %w", jobWhat(ns, name), err)
	}
	var a Armed
	if err := json.Unmarshal(e.Value(), &a); err != nil {
		return Armed{}, damagedf("decode %s: %v", e.Key(), err)
	}
	return a, nil
}

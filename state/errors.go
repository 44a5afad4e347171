package state

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotFound is matched (errors.Is) by every error about a job, version,
// spec, node, execution or document that is not stored.
var ErrNotFound = errors.New("not found")

// ErrConflict is matched (errors.Is) by every *ConflictError.
var ErrConflict = errors.New("conflict")

// ErrInvalid is matched (errors.Is) by every error about malformed input:
// a name, id, hash, state or label that breaks its rules. Servers answer
// such errors as the caller's mistake.
var ErrInvalid = errors.New("invalid input")

// invalidError is malformed input; its text is the whole message.
type invalidError struct{ msg string }

func (e *invalidError) Error() string        { return e.msg }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

// invalidf returns an error that reads as formatted and matches ErrInvalid.
func invalidf(format string, args ...any) error {
	return &invalidError{msg: fmt.Sprintf(format, args...)}
}

// ErrLocked is matched (errors.Is) by every *LockedError.
var ErrLocked = errors.New("state directory locked")

// notFound returns an error that reads "<what> not found" and matches
// ErrNotFound.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// ConflictError says that a compare-and-set write lost: the record moved
// after the caller read it. Re-read the record (for apply: plan again) and
// retry. Base is the revision the write was based on; Current is the revision
// found when the conflict was seen, 0 when the record does not exist or could
// not be read again.
type ConflictError struct {
	What    string // the record, such as "job default/web" or "execution default/web/e1"
	Base    uint64 // the revision the caller based its write on (0: expected no record)
	Current uint64 // the revision found
	Reason  string // optional detail
}

// Error tells what moved and what to do.
func (e *ConflictError) Error() string {
	var msg string
	switch {
	case e.Base == 0 && e.Current == 0:
		msg = "conflict on " + e.What
	case e.Base == 0:
		msg = fmt.Sprintf("conflict on %s: it was expected not to exist yet but it is at revision %d", e.What, e.Current)
	case e.Current == 0:
		msg = fmt.Sprintf("conflict on %s: the write was based on revision %d but it changed or was removed", e.What, e.Base)
	default:
		msg = fmt.Sprintf("conflict on %s: the write was based on revision %d but it is now at revision %d", e.What, e.Base, e.Current)
	}
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	return msg + "; another writer changed it concurrently: read it again (re-run plan) and retry"
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// LockedError says that another live process holds the state directory.
// PID and Started come from the lock file and are zero when it could not be
// read.
type LockedError struct {
	Dir     string
	PID     int
	Started time.Time
	// Command is what the holder recorded it runs ("muster apply"), "" when
	// it recorded none.
	Command string
}

// Error names the holder and what to do.
func (e *LockedError) Error() string {
	return fmt.Sprintf("state directory %s is in use by %s: wait for it to finish, stop it, or use another state directory (--state-dir)", e.Dir, e.Holder())
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Holder names the holding process as far as the lock file told:
// "process 1234 (muster apply, started 2025-01-02T15:04:05Z)", or
// "another process" when it told nothing.
func (e *LockedError) Holder() string {
	if e.PID <= 0 {
		return "another process"
	}
	var about []string
	if e.Command != "" {
		about = append(about, e.Command)
	}
	if !e.Started.IsZero() {
		about = append(about, "started "+e.Started.Local().Format(time.RFC3339))
	}
	who := fmt.Sprintf("process %d", e.PID)
	if len(about) > 0 {
		who += " (" + strings.Join(about, ", ") + ")"
	}
	return who
}

// ErrDamaged is matched (errors.Is) by every error that finds the stored
// state inconsistent: writes lost from a stream, a spec whose bytes do not
// hash to its name, a version chain that does not link. Nothing should act
// on such a store; 'muster doctor' reports what is damaged.
var ErrDamaged = errors.New("the store is damaged: run 'muster doctor'")

// DamagedError lists what is damaged in a store. It matches ErrDamaged.
type DamagedError struct {
	// Where names the store: its state directory or NATS URL.
	Where string
	// Problems says what is wrong, one finding each.
	Problems []string
}

// Error says what is damaged and what to do.
func (e *DamagedError) Error() string {
	msg := "the state"
	if e.Where != "" {
		msg += " in " + e.Where
	}
	msg += " is damaged, so muster will not act on it: "
	for i, p := range e.Problems {
		if i > 0 {
			msg += "; "
		}
		if i == 3 && len(e.Problems) > 4 {
			msg += fmt.Sprintf("and %d more", len(e.Problems)-3)
			break
		}
		msg += p
	}
	return msg + ". Run 'muster doctor' for the details, then restore the state from a backup or accept the loss with 'muster doctor --accept-loss'"
}

// Is makes errors.Is(err, ErrDamaged) true.
func (e *DamagedError) Is(target error) bool { return target == ErrDamaged }

// damagedf returns an error about one damaged record that matches
// ErrDamaged.
func damagedf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrDamaged)
}

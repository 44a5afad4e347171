package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// lockFileName is the lock file inside a state directory.
const lockFileName = "lock"

// lockPoll is how often a waiting Open tries the lock again.
const lockPoll = 25 * time.Millisecond

// lockInfo is what the lock file records about its holder.
type lockInfo struct {
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	// Command is Options.Holder: what the holder runs ("muster apply").
	Command string `json:"command,omitempty"`
}

// lockTell is how long a waiting Open may wait for the holder to record
// itself in the lock file (it writes the file just after it took the lock)
// before it reports the wait without naming the holder.
const lockTell = 250 * time.Millisecond

// dirLock is an exclusive advisory lock (flock) on <dir>/lock. The kernel
// drops it when the holder exits, however it dies, so a lock left by a
// killed process is simply taken by the next one.
type dirLock struct {
	f *os.File
}

// errWouldBlock is returned by tryLock when another open file holds the lock.
var errWouldBlock = errors.New("lock held")

// acquireLock takes the lock on dir, waiting up to opts.LockWait for a live
// holder to let go (telling opts.OnLockWait once it starts waiting), and
// then records this process in the file.
func acquireLock(ctx context.Context, dir string, opts Options) (*dirLock, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	start := time.Now()
	deadline := start.Add(opts.LockWait)
	told := opts.OnLockWait == nil
	for {
		err = tryLock(f)
		if err == nil {
			break
		}
		if !errors.Is(err, errWouldBlock) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !time.Now().Before(deadline) {
			f.Close()
			return nil, lockedError(dir, path)
		}
		if !told {
			// Say at once who is waited for; the holder may not have
			// recorded itself yet, which takes it an instant.
			if le := lockedError(dir, path); le.PID > 0 || time.Since(start) >= lockTell {
				opts.OnLockWait(le)
				told = true
			}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("%w (%w)", lockedError(dir, path), ctx.Err())
		case <-time.After(min(lockPoll, time.Until(deadline))):
		}
	}
	info, _ := json.Marshal(lockInfo{PID: os.Getpid(), Started: time.Now().UTC(), Command: opts.Holder})
	werr := f.Truncate(0)
	if werr == nil {
		_, werr = f.WriteAt(append(info, '\n'), 0)
	}
	if err := werr; err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("write lock file %s: %w", path, err)
	}
	return &dirLock{f: f}, nil
}

// lockedError reads the holder from the lock file, as far as it can.
func lockedError(dir, path string) *LockedError {
	e := &LockedError{Dir: dir}
	if b, err := os.ReadFile(path); err == nil {
		var info lockInfo
		if json.Unmarshal(b, &info) == nil {
			e.PID, e.Started, e.Command = info.PID, info.Started, info.Command
		}
	}
	return e
}

// release empties the file (nobody holds it) and lets the lock go.
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = l.f.Truncate(0)
	err := unlock(l.f)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}

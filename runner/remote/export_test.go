package remote

import "time"

// SetRunAttempt sets how long a run request waits for an answer before
// the client looks whether it was lost, until the test ends.
func SetRunAttempt(d time.Duration) (restore func()) {
	old := runAttempt
	runAttempt = d
	return func() { runAttempt = old }
}

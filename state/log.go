package state

import "log/slog"

// SetLogger makes l the store's logger: it logs what it refuses (a state
// change its machines do not allow), leases taken and lost, and writes it
// had to try again, each line with the job, version, node and execution it
// is about. Without one the store logs nothing. Safe for concurrent use.
func (s *Store) SetLogger(l *slog.Logger) { s.logger.Store(l) }

// log is the store's logger.
func (s *Store) log() *slog.Logger {
	if l := s.logger.Load(); l != nil {
		return l.With("component", "state")
	}
	return slog.New(slog.DiscardHandler)
}

package apply

import (
	"log/slog"

	"github.com/jonboulle/clockwork"
)

// clockOr returns c, or the real clock when c is nil. Every wait of the
// engine and the controller (health checks, restart backoff, deadlines,
// node silence) goes through a clock, so that tests move time forward
// instead of sleeping.
func clockOr(c clockwork.Clock) clockwork.Clock {
	if c == nil {
		return clockwork.NewRealClock()
	}
	return c
}

// loggerOr returns l, or a logger that drops everything when l is nil.
func loggerOr(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

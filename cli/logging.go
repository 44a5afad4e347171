package cli

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
)

// registerLogLevel adds --log-level to a long-running command (dev,
// server, agent): its structured log goes to stderr as slog text lines,
// beside the lines it prints on stdout.
func registerLogLevel(c *cobra.Command) {
	c.Flags().String("log-level", envOr("MUSTER_LOG_LEVEL", "info"), "least level of the structured log on stderr: debug, info, warn, error or off (MUSTER_LOG_LEVEL)")
}

// logger returns the structured logger of a long-running command, its
// lines tagged with the command (mode): slog's text format on stderr, at
// the level of --log-level. A command without the flag, or with "off",
// logs nothing.
func logger(c *cobra.Command, mode string) *slog.Logger {
	f := c.Flags().Lookup("log-level")
	if f == nil {
		return slog.New(slog.DiscardHandler)
	}
	var level slog.Level
	switch v := strings.ToLower(f.Value.String()); v {
	case "off", "none":
		return slog.New(slog.DiscardHandler)
	default:
		if err := level.UnmarshalText([]byte(v)); err != nil {
			fmt.Fprintf(c.ErrOrStderr(), "muster %s: --log-level %q: want debug, info, warn, error or off; using info\n", mode, v)
			level = slog.LevelInfo
		}
	}
	return slog.New(slog.NewTextHandler(c.ErrOrStderr(), &slog.HandlerOptions{Level: level})).With("muster", mode)
}

package daemon

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// NewLogger returns the daemon's logger: slog's text handler on w at level
// ("debug", "info", "warn" or "error"; "" means info).
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	lv, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lv})), nil
}

// ParseLevel parses a log level: debug, info, warn or error, in any case;
// "" means info.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(s) {
	case "debug":
		return slog.LevelDebug, nil
	case "", "info":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("log_level %q: want debug, info, warn or error", s)
}

package bench

import (
	"fmt"
	"slices"
	"time"
)

// fmtDur formats a duration for people: milliseconds below ten seconds
// keep their precision, longer ones are rounded to 10 ms.
func fmtDur(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d < time.Millisecond:
		return d.Round(time.Microsecond).String()
	case d < 10*time.Second:
		return d.Round(time.Millisecond).String()
	default:
		return d.Round(10 * time.Millisecond).String()
	}
}

// fmtDurPtr formats an optional duration, "—" when absent.
func fmtDurPtr(d *time.Duration) string {
	if d == nil {
		return "—"
	}
	return fmtDur(*d)
}

// fmtBytes formats a byte count with a binary unit.
func fmtBytes(b float64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%.0f B", b)
	}
	div, exp := float64(unit), 0
	for n := b / unit; n >= unit; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", b/div, "KMGTPE"[exp])
}

func sortDesc(s []float64) {
	slices.Sort(s)
	slices.Reverse(s)
}

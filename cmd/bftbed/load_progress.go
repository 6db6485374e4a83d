package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/bftbed/bftbed/bench/load"
)

// isTerminal reports whether w is a terminal (a character device), where a
// display may rewrite its lines in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressDisplay shows a running load: on a terminal a live bar (mpb)
// with elapsed time, committed operations, the current rate and errors;
// elsewhere (CI logs, pipes) a plain line every plainEvery.
type progressDisplay struct {
	mu   sync.Mutex
	last load.Progress

	p   *mpb.Progress // nil when plain
	bar *mpb.Bar

	w         io.Writer
	nextPlain time.Duration
}

// plainEvery is the period of plain progress lines.
const plainEvery = 5 * time.Second

// newProgressDisplay starts a display on w for a load of the given length.
func newProgressDisplay(ctx context.Context, w io.Writer, duration time.Duration) *progressDisplay {
	d := &progressDisplay{w: w, nextPlain: plainEvery}
	if !isTerminal(w) {
		return d
	}
	d.p = mpb.NewWithContext(ctx, mpb.WithOutput(w), mpb.WithWidth(30), mpb.WithRefreshRate(200*time.Millisecond))
	d.bar = d.p.New(duration.Milliseconds(), mpb.BarStyle(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string {
			st := d.snapshot()
			if st.Done {
				return fmt.Sprintf("done     %5s", st.Elapsed.Round(time.Second))
			}
			if st.Draining {
				return fmt.Sprintf("draining %5s", st.Elapsed.Round(time.Second))
			}
			return fmt.Sprintf("%5s / %s", st.Elapsed.Round(time.Second), st.Duration.Round(time.Second))
		})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
			st := d.snapshot()
			return fmt.Sprintf("committed %d  %.0f ops/s now  errors %d  in flight %d", st.Committed, st.Rate, st.Errors, st.InFlight)
		})),
	)
	return d
}

func (d *progressDisplay) snapshot() load.Progress {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// update takes a progress report from load.Run.
func (d *progressDisplay) update(p load.Progress) {
	d.mu.Lock()
	d.last = p
	d.mu.Unlock()
	if d.bar != nil {
		if p.Done {
			d.bar.SetTotal(-1, true)
		} else {
			d.bar.SetCurrent(min(p.Elapsed, p.Duration-time.Millisecond).Milliseconds())
		}
		return
	}
	if p.Elapsed >= d.nextPlain && !p.Done {
		d.nextPlain += plainEvery
		fmt.Fprintf(d.w, "load: %s  committed %d  %.0f ops/s now  errors %d  in flight %d\n",
			p.Elapsed.Round(time.Second), p.Committed, p.Rate, p.Errors, p.InFlight)
	}
}

// wait ends the display, after the bar's last render.
func (d *progressDisplay) wait() {
	if d.p != nil {
		if !d.bar.Completed() {
			d.bar.Abort(false)
		}
		d.p.Wait()
	}
}

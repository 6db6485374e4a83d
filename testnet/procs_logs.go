package testnet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// followPoll is how often CopyLog looks for new lines when following.
const followPoll = 200 * time.Millisecond

// CopyLog copies the log at path to out (its last n lines if n > 0) and,
// with follow, what is appended to it until ctx ends (then it returns
// ctx.Err()). A log truncated meanwhile is read again from its start. It is
// `bftbed testnet logs [-f]`.
func CopyLog(ctx context.Context, out io.Writer, path string, n int, follow bool) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no log yet at %s: the node has not been started", path)
		}
		return err
	}
	defer f.Close()
	if n > 0 {
		if tail := TailFile(path, n); tail != "" {
			fmt.Fprintln(out, tail)
		}
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			return err
		}
	} else if _, err := io.Copy(out, f); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	tick := time.NewTicker(followPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		pos, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		if st, err := os.Stat(path); err == nil && st.Size() < pos {
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
		}
		if _, err := io.Copy(out, f); err != nil {
			return err
		}
	}
}

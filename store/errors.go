package store

import (
	"encoding/hex"
	"errors"
	"fmt"
)

// ErrClosed is returned by the methods of a closed Store.
var ErrClosed = errors.New("store: closed")

// CorruptionError reports bad data on disk: a checksum mismatch, an
// undecodable record, a record that contradicts its key, a stable checkpoint
// whose snapshot is missing, or a gap in the executed batches. The store
// refuses to guess what the data should have been: a replica that recovered
// from a damaged log could contradict what it signed before, so it must not
// start. Match it with errors.As.
type CorruptionError struct {
	// Key is the raw key of the bad (or missing) record.
	Key []byte
	// Info is Key decoded: its kind, seq, type, view, replica, ...
	Info KeyInfo
	// Err says what is wrong.
	Err error
}

// Error names the record (decoded and in hex) and what is wrong with it.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("store: corrupt record %s (key %s): %v", e.Info, hex.EncodeToString(e.Key), e.Err)
}

// Unwrap returns what is wrong.
func (e *CorruptionError) Unwrap() error { return e.Err }

// corrupt returns a *CorruptionError for key.
func corrupt(key []byte, format string, args ...any) *CorruptionError {
	return &CorruptionError{Key: append([]byte(nil), key...), Info: parseKey(key), Err: fmt.Errorf(format, args...)}
}

// corruptErr wraps err in a *CorruptionError for key.
func corruptErr(key []byte, err error) *CorruptionError {
	return &CorruptionError{Key: append([]byte(nil), key...), Info: parseKey(key), Err: err}
}

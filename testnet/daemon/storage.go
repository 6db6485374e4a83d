package daemon

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/store"
)

// CorruptStoreError is Start's error for a data directory that failed the
// store's checks, when Options.ResetState is not set. The replica refuses to
// start: recovered from a damaged log, it could contradict what it signed
// before, which is how a correct replica turns Byzantine.
type CorruptStoreError struct {
	// Replica is the node's ID and Dir its data directory.
	Replica int
	Dir     string
	// Err is the store's error: a *store.CorruptionError naming the bad
	// record's key, or Pebble's own pebble.ErrCorruption.
	Err error
}

// Error names the directory and the bad record, and says how to recover.
func (e *CorruptStoreError) Error() string {
	return fmt.Sprintf("replica %d: corrupt store in %s: %v; refusing to start, since a replica "+
		"recovered from a damaged log could contradict what it signed. To recover, start it with "+
		"--reset-state: the directory is moved aside (kept for inspection) and the replica catches "+
		"up from its peers by state transfer", e.Replica, e.Dir, e.Err)
}

// Unwrap returns the store's error, so errors.As finds the
// *store.CorruptionError.
func (e *CorruptStoreError) Unwrap() error { return e.Err }

// isCorrupt reports whether err says the data on disk is bad (rather than,
// say, unreadable or locked by another process).
func isCorrupt(err error) bool {
	var ce *store.CorruptionError
	return errors.As(err, &ce) || errors.Is(err, pebble.ErrCorruption)
}

// dataDir is the store's directory, resolved against the config file.
func (d *Daemon) dataDir() string { return d.cfg.Path(d.cfg.DataDir) }

// openStore opens the store and loads it, so that a corrupt store is found
// before anything else starts: Open checks the records every Save depends
// on (format, view, stable checkpoint), Load everything recovery reads. A
// corrupt store is refused or, with reset, moved aside and replaced by an
// empty one. The Recovered is handed to the node (see loadedStore) rather
// than loaded twice.
func (d *Daemon) openStore(reset bool) (*loadedStore, error) {
	dir := d.dataDir()
	st, err := store.Open(dir, store.Options{Logger: d.log})
	var rec *pbft.Recovered
	if err == nil {
		if rec, err = st.Load(); err != nil {
			if cerr := st.Close(); cerr != nil {
				d.log.Warn("closing the store", "err", cerr)
			}
		}
	}
	if err == nil {
		return &loadedStore{Store: st, rec: rec}, nil
	}
	if !isCorrupt(err) {
		return nil, fmt.Errorf("replica %d: %w", d.cfg.ID, err)
	}
	if !reset {
		return nil, &CorruptStoreError{Replica: d.cfg.ID, Dir: dir, Err: err}
	}
	if err := d.moveAside(err); err != nil {
		return nil, err
	}
	if st, err = store.Open(dir, store.Options{Logger: d.log}); err != nil {
		return nil, fmt.Errorf("replica %d: opening an empty store after the reset: %w", d.cfg.ID, err)
	}
	return &loadedStore{Store: st}, nil
}

// loadedStore is a Store whose first Load returns what openStore already
// loaded. (A Store's Load also remembers the batches it returned, for Save
// to refer to; handing over that very result keeps that right.)
type loadedStore struct {
	*store.Store
	rec *pbft.Recovered
}

// Load implements pbft.Storage.
func (s *loadedStore) Load() (*pbft.Recovered, error) {
	if rec := s.rec; rec != nil {
		s.rec = nil
		return rec, nil
	}
	return s.Store.Load()
}

// moveAside renames the (closed) corrupt data directory to
// <dir>.corrupt-<UTC time>, keeping it for inspection, and says so loudly:
// the replica forgets what it signed, and is safe only as long as the
// cluster counts it among its f possibly faulty replicas until it has
// caught up.
func (d *Daemon) moveAside(cause error) error {
	dir := d.dataDir()
	base := fmt.Sprintf("%s.corrupt-%s", dir, time.Now().UTC().Format("20060102T150405Z"))
	to := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(to); errors.Is(err, os.ErrNotExist) {
			break
		}
		to = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(dir, to); err != nil {
		return fmt.Errorf("replica %d: --reset-state: moving the corrupt store aside: %w", d.cfg.ID, err)
	}
	d.movedAside = to
	d.log.Warn("STATE RESET: the store was corrupt and has been moved aside; "+
		"starting with an empty store and catching up from the peers by state transfer",
		"err", cause, "data_dir", dir, "moved_to", to)
	d.log.Warn("STATE RESET: this replica forgot every message it signed; until it has caught up, " +
		"count it among the f faulty replicas the cluster tolerates")
	return nil
}

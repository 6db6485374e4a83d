package sim

import (
	"fmt"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/store"
)

// disk is a replica's durable storage across simulated crashes.
type disk interface {
	open() (pbft.Storage, error)
	// powerCut drops the open storage as a crash would: only what was
	// synced survives.
	powerCut()
	// usage reports the bytes the storage occupies.
	usage() uint64
}

// memDisk keeps a MemoryStorage, whose every Save is durable.
type memDisk struct{ st *pbft.MemoryStorage }

func (d *memDisk) open() (pbft.Storage, error) {
	if d.st == nil {
		d.st = pbft.NewMemoryStorage()
	}
	return d.st, nil
}
func (d *memDisk) powerCut()     {}
func (d *memDisk) usage() uint64 { return 0 }

// pebbleDisk runs the Pebble store on a crashable in-memory file system. A
// power cut replaces the file system with a clone holding exactly the
// synced data, and abandons the open store.
type pebbleDisk struct {
	fs *vfs.MemFS
	st *store.Store
}

func (d *pebbleDisk) open() (pbft.Storage, error) {
	if d.fs == nil {
		d.fs = vfs.NewCrashableMem()
	}
	st, err := store.Open("replica", store.Options{FS: d.fs})
	if err != nil {
		return nil, fmt.Errorf("open pebble store: %w", err)
	}
	d.st = st
	return st, nil
}

func (d *pebbleDisk) powerCut() {
	if d.st == nil {
		return
	}
	clone := d.fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
	// Closing lets the old store's background work finish; none of it
	// reaches the clone.
	_ = d.st.Close()
	d.st, d.fs = nil, clone
}

func (d *pebbleDisk) usage() uint64 {
	if d.st == nil {
		return 0
	}
	return d.st.DiskUsage()
}

package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// snapshotVersion is the first byte of a snapshot, so the format can change
// without old bytes being misread.
const snapshotVersion = 1

// Snapshot encodes the whole state: the version byte, the number of keys as
// a uvarint, then each key and its value, length-prefixed, in strictly
// increasing key order. Sorting makes the bytes depend only on the contents,
// not on Go's map order or the history that built the state, so replicas
// with equal states produce equal checkpoint digests.
func (s *Store) Snapshot() []byte {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := make([]string, 0, len(s.m))
	n := 1 + binary.MaxVarintLen64
	for k, v := range s.m {
		keys = append(keys, k)
		n += 2*binary.MaxVarintLen64 + len(k) + len(v)
	}
	slices.Sort(keys)
	b := append(make([]byte, 0, n), snapshotVersion)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		b = appendField(b, s.m[k])
	}
	return b
}

// Restore replaces the state with a snapshot from Snapshot. It is strict, so
// that exactly one byte string encodes each state: it rejects a wrong
// version, truncated or trailing bytes, non-minimal lengths, a wrong count,
// keys or values over the limits, and keys out of order or repeated. On
// error the state is unchanged. The store does not keep references to
// snapshot.
func (s *Store) Restore(snapshot []byte) error {
	r := reader{b: snapshot, what: "snapshot"}
	if v := r.byte1("version"); r.err == nil && v != snapshotVersion {
		return fmt.Errorf("%w snapshot: version %d, want %d", ErrMalformed, v, snapshotVersion)
	}
	// Each entry takes at least two bytes (two empty lengths), which bounds
	// the count before it sizes the map.
	count := r.uvarint("count", "", uint64(len(r.b)/2))
	m := make(map[string][]byte, count)
	var prev []byte
	for i := uint64(0); i < count && r.err == nil; i++ {
		k := r.field("key", MaxKeySize)
		v := r.field("value", MaxValueSize)
		if r.err == nil && i > 0 && bytes.Compare(prev, k) >= 0 {
			r.fail("key %d out of order", i)
		}
		m[string(k)] = clone(v)
		prev = k
	}
	if err := r.done(); err != nil {
		return err
	}
	s.mu.Lock()
	s.m = m
	s.mu.Unlock()
	return nil
}

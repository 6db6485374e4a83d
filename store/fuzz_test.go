package store

import (
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// reencode returns the value that encodes r under key.
func reencode(key []byte, r *record) []byte {
	switch r.info.Kind {
	case KindMeta:
		switch r.info.Meta {
		case metaFormat:
			return encodeFormat(r.format)
		case metaView:
			return encodeView(r.view)
		default:
			return encodeStable(r.stable)
		}
	case KindLog, KindViewChange:
		return encodeMessage(key, r.msg)
	case KindExecuted:
		if r.execRef {
			return encodeExecutedRef(key, r.exec.View, r.exec.Digest)
		}
		return encodeExecuted(key, &r.exec)
	default:
		return encodeSnapshot(key, r.snapshot)
	}
}

// FuzzDecodeRecord feeds arbitrary keys and values to the record decoder,
// seeded with every kind of record a real run stores. The decoder must never
// panic, must fail only with a *CorruptionError naming the key, and must
// accept exactly one encoding per record: what it accepts re-encodes to the
// same bytes. With reseal, the input is a payload and gets a valid checksum,
// so that the fuzzer explores the payload decoders rather than stopping at
// the checksum.
func FuzzDecodeRecord(f *testing.F) {
	s, err := Open("db", Options{FS: vfs.NewMem()})
	if err != nil {
		f.Fatal(err)
	}
	fx := newFixture(3, 16, 4)
	for _, p := range fx.run(10, false, 7) {
		if err := s.Save(p); err != nil {
			f.Fatal(err)
		}
	}
	// An executed batch stored whole, not as a reference.
	full := seqKey(KindExecuted, 1)
	add := func(key, value []byte) {
		f.Add(key, value, false)
		f.Add(key, value[sumLen:], true)
	}
	add(full, encodeExecuted(full, &fx.normalSteps(true, 3)[0].Executed[0]))
	it, err := s.db.NewIter(nil)
	if err != nil {
		f.Fatal(err)
	}
	for ok := it.First(); ok; ok = it.Next() {
		add(append([]byte(nil), it.Key()...), append([]byte(nil), it.Value()...))
	}
	it.Close()
	s.Close()
	f.Add([]byte{}, []byte{}, false)
	f.Add([]byte("m"), []byte{1, 2, 3, 4}, false)
	f.Fuzz(func(t *testing.T, key, value []byte, reseal bool) {
		if reseal {
			value = seal(key, append(make([]byte, sumLen), value...))
		}
		r, err := decodeRecord(key, value)
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) || string(ce.Key) != string(key) {
				t.Fatalf("error %v is not a *CorruptionError for the key", err)
			}
			_ = err.Error()
			return
		}
		if got := reencode(key, r); string(got) != string(value) {
			t.Fatalf("accepted a non-canonical value:\n in  %x\n out %x", value, got)
		}
	})
}

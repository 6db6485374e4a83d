package store

// Values: encoding, checksums and strict decoding.
//
// A value is a 4-byte big-endian CRC32-C of the key and the payload, then the
// payload. Pebble checksums its blocks and WAL records too, but that only
// proves the bytes are the ones Pebble wrote; the record checksum covers the
// path from this package's encoder to its decoder, and covering the key as
// well catches a value that ended up under the wrong key. Decoding is strict
// (one encoding per record, checked against its key), so anything damaged or
// misplaced is an error rather than a plausible wrong answer.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// formatVersion is the on-disk format this package writes and reads.
const formatVersion = 1

// sumLen is the length of a value's checksum.
const sumLen = 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum returns the CRC32-C of key followed by payload.
func checksum(key, payload []byte) uint32 {
	return crc32.Update(crc32.Checksum(key, castagnoli), castagnoli, payload)
}

// newValue returns an empty value buffer: room for the checksum, capacity
// for a payload of n bytes.
func newValue(n int) []byte { return make([]byte, sumLen, sumLen+n) }

// seal writes the checksum of key and v's payload into v's first bytes.
func seal(key, v []byte) []byte {
	binary.BigEndian.PutUint32(v, checksum(key, v[sumLen:]))
	return v
}

// unseal verifies value's checksum and returns its payload.
func unseal(key, value []byte) ([]byte, error) {
	if len(value) < sumLen {
		return nil, fmt.Errorf("value is %d bytes, shorter than its checksum", len(value))
	}
	stored, payload := binary.BigEndian.Uint32(value), value[sumLen:]
	if got := checksum(key, payload); got != stored {
		return nil, fmt.Errorf("checksum mismatch: stored %08x, computed %08x", stored, got)
	}
	return payload, nil
}

// msgKey returns the key a log or view-change message is stored under.
func msgKey(m pbft.Message) ([]byte, error) {
	switch m := m.(type) {
	case *pbft.PrePrepare:
		if m != nil {
			return logKey(m.Seq, pbft.MsgPrePrepare, m.View, m.Replica, m.Digest), nil
		}
	case *pbft.Prepare:
		if m != nil {
			return logKey(m.Seq, pbft.MsgPrepare, m.View, m.Replica, m.Digest), nil
		}
	case *pbft.Commit:
		if m != nil {
			return logKey(m.Seq, pbft.MsgCommit, m.View, m.Replica, m.Digest), nil
		}
	case *pbft.Checkpoint:
		if m != nil {
			return logKey(m.Seq, pbft.MsgCheckpoint, 0, m.Replica, m.State), nil
		}
	case *pbft.ViewChange:
		if m != nil {
			return vcKey(m.View, pbft.MsgViewChange, m.Replica), nil
		}
	case *pbft.NewView:
		if m != nil {
			return vcKey(m.View, pbft.MsgNewView, m.Replica), nil
		}
	case nil:
		return nil, errors.New("store: nil log message")
	default:
		return nil, fmt.Errorf("store: cannot log a %s message", m.Type())
	}
	return nil, fmt.Errorf("store: nil %T log message", m)
}

// encodeMessage returns the value of a log or view-change message.
func encodeMessage(key []byte, m pbft.Message) []byte {
	return seal(key, pbft.AppendMarshal(newValue(0), m))
}

// encodeFormat returns the value of the format-version record.
func encodeFormat(version uint64) []byte {
	return seal(formatKey, binary.BigEndian.AppendUint64(newValue(8), version))
}

// encodeView returns the value of the view-status record.
func encodeView(vs pbft.ViewStatus) []byte {
	v := binary.BigEndian.AppendUint64(newValue(9), uint64(vs.View))
	changing := byte(0)
	if vs.Changing {
		changing = 1
	}
	return seal(viewKey, append(v, changing))
}

// encodeStable returns the value of the stable-checkpoint record.
func encodeStable(st *pbft.StableCheckpoint) []byte {
	v := binary.BigEndian.AppendUint64(newValue(8+32+len(st.Proof)*120), uint64(st.Seq))
	v = append(v, st.State[:]...)
	v = binary.AppendUvarint(v, uint64(len(st.Proof)))
	for _, cp := range st.Proof {
		b := pbft.Marshal(cp)
		v = binary.AppendUvarint(v, uint64(len(b)))
		v = append(v, b...)
	}
	return seal(stableKey, v)
}

// Executed-batch payload tags.
const (
	execFull = 0 // the batch itself
	execRef  = 1 // a reference to the logged pre-prepare's batch
)

// encodeExecuted returns the value of an executed batch stored whole. The
// batch travels as a PRE-PREPARE with no replica and no signature, reusing
// the strict message codec and its limits.
func encodeExecuted(key []byte, b *pbft.CommittedBatch) []byte {
	pp := &pbft.PrePrepare{View: b.View, Seq: b.Seq, Digest: b.Digest, Batch: b.Batch}
	return seal(key, pbft.AppendMarshal(append(newValue(0), execFull), pp))
}

// encodeExecutedRef returns the value of an executed batch that is the
// batch of the logged PRE-PREPARE (key's seq, view, digest).
func encodeExecutedRef(key []byte, view pbft.View, digest pbft.Digest) []byte {
	v := append(newValue(1+8+32), execRef)
	v = binary.BigEndian.AppendUint64(v, uint64(view))
	return seal(key, append(v, digest[:]...))
}

// encodeSnapshot returns the value of a snapshot.
func encodeSnapshot(key, data []byte) []byte {
	return seal(key, append(newValue(len(data)), data...))
}

// record is one decoded key/value pair. Which fields are set depends on
// info.Kind (and info.Meta).
type record struct {
	info KeyInfo

	format uint64                 // meta format-version
	view   pbft.ViewStatus        // meta view-status
	stable *pbft.StableCheckpoint // meta stable-checkpoint
	msg    pbft.Message           // log, view-change

	// exec is an executed batch. When execRef is set its Batch is nil and
	// must be taken from the logged PRE-PREPARE (Seq, View, Digest).
	exec    pbft.CommittedBatch
	execRef bool

	snapshot []byte // never nil, so that an empty snapshot is not a missing one
}

// decodeRecord decodes and verifies one stored key/value pair. It never
// panics, whatever the bytes, and its error is always a *CorruptionError
// naming the key. The result does not alias key or value.
func decodeRecord(key, value []byte) (*record, error) {
	r := &record{info: parseKey(key)}
	if !r.info.Valid {
		return nil, corrupt(key, "malformed key")
	}
	payload, err := unseal(key, value)
	if err != nil {
		return nil, corruptErr(key, err)
	}
	switch r.info.Kind {
	case KindMeta:
		err = r.decodeMeta(payload)
	case KindLog, KindViewChange:
		err = r.decodeMessage(key, payload)
	case KindExecuted:
		err = r.decodeExecuted(payload)
	case KindSnapshot:
		r.snapshot = append([]byte{}, payload...)
	}
	if err != nil {
		return nil, corruptErr(key, err)
	}
	return r, nil
}

func (r *record) decodeMeta(p []byte) error {
	switch r.info.Meta {
	case metaFormat:
		if len(p) != 8 {
			return fmt.Errorf("format version is %d bytes, want 8", len(p))
		}
		r.format = binary.BigEndian.Uint64(p)
	case metaView:
		if len(p) != 9 || p[8] > 1 {
			return errors.New("view status is not 8 bytes of view and a 0/1 changing flag")
		}
		r.view = pbft.ViewStatus{View: pbft.View(binary.BigEndian.Uint64(p)), Changing: p[8] == 1}
	case metaStable:
		st, err := decodeStable(p)
		if err != nil {
			return err
		}
		r.stable = st
	}
	return nil
}

// decodeStable decodes the stable-checkpoint payload strictly.
func decodeStable(p []byte) (*pbft.StableCheckpoint, error) {
	if len(p) < 8+32 {
		return nil, fmt.Errorf("stable checkpoint is %d bytes, too short", len(p))
	}
	st := &pbft.StableCheckpoint{Seq: pbft.Seq(binary.BigEndian.Uint64(p))}
	copy(st.State[:], p[8:40])
	p = p[40:]
	n, p, err := uvarint(p, "proof count")
	if err != nil {
		return nil, err
	}
	if n > pbft.MaxCheckpointProof {
		return nil, fmt.Errorf("proof has %d checkpoints, limit %d", n, pbft.MaxCheckpointProof)
	}
	for i := range n {
		var l uint64
		if l, p, err = uvarint(p, "proof length"); err != nil {
			return nil, fmt.Errorf("proof[%d]: %w", i, err)
		}
		if l > uint64(len(p)) {
			return nil, fmt.Errorf("proof[%d]: %d bytes, only %d left", i, l, len(p))
		}
		m, err := pbft.Unmarshal(p[:l])
		if err != nil {
			return nil, fmt.Errorf("proof[%d]: %w", i, err)
		}
		cp, ok := m.(*pbft.Checkpoint)
		if !ok {
			return nil, fmt.Errorf("proof[%d] is a %s, not a CHECKPOINT", i, m.Type())
		}
		st.Proof = append(st.Proof, cp)
		p = p[l:]
	}
	if len(p) != 0 {
		return nil, fmt.Errorf("%d trailing bytes after the stable checkpoint", len(p))
	}
	return st, nil
}

// uvarint reads a minimal uvarint from p and returns the rest.
func uvarint(p []byte, what string) (uint64, []byte, error) {
	v, n := binary.Uvarint(p)
	if n <= 0 {
		return 0, nil, fmt.Errorf("%s: bad uvarint", what)
	}
	if n != len(binary.AppendUvarint(nil, v)) {
		return 0, nil, fmt.Errorf("%s: non-minimal uvarint", what)
	}
	return v, p[n:], nil
}

// decodeMessage decodes a log or view-change message and checks that it is
// the one its key names: a message stored under another message's key is as
// wrong as a garbled one.
func (r *record) decodeMessage(key, p []byte) error {
	m, err := pbft.Unmarshal(p)
	if err != nil {
		return err
	}
	want, err := msgKey(m)
	if err != nil {
		return err
	}
	if string(want) != string(key) {
		return fmt.Errorf("value holds another message: %s", parseKey(want))
	}
	r.msg = m
	return nil
}

func (r *record) decodeExecuted(p []byte) error {
	if len(p) == 0 {
		return errors.New("empty executed batch")
	}
	switch p[0] {
	case execFull:
		m, err := pbft.Unmarshal(p[1:])
		if err != nil {
			return err
		}
		pp, ok := m.(*pbft.PrePrepare)
		if !ok || pp.Replica != 0 || pp.Sig != (crypto.Signature{}) {
			return errors.New("executed batch is not an unsigned PRE-PREPARE")
		}
		if pp.Seq != r.info.Seq {
			return fmt.Errorf("executed batch is for seq %d", pp.Seq)
		}
		r.exec = pbft.CommittedBatch{Seq: pp.Seq, View: pp.View, Digest: pp.Digest, Batch: pp.Batch}
	case execRef:
		if len(p) != 1+8+32 {
			return fmt.Errorf("executed batch reference is %d bytes, want 41", len(p))
		}
		r.exec = pbft.CommittedBatch{Seq: r.info.Seq, View: pbft.View(binary.BigEndian.Uint64(p[1:]))}
		copy(r.exec.Digest[:], p[9:])
		r.execRef = true
	default:
		return fmt.Errorf("executed batch has unknown tag %d", p[0])
	}
	return nil
}

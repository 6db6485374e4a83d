package store

// Key layout.
//
// Every key starts with a one-byte kind, so each kind of record is one
// contiguous key range: recovery is a handful of Gets and three bounded range
// scans, and never reads a record of another kind. Integers are big-endian,
// so byte order is numeric order and "everything at or below seq S" is one
// key range, removed with one DeleteRange.
//
//	kind  key                                    value payload
//	'm'   'm' 'f'                                format version, 8 bytes
//	'm'   'm' 'v'                                view status: view 8, changing 1
//	'm'   'm' 's'                                stable checkpoint: seq 8, state 32,
//	                                             uvarint count, count x (uvarint
//	                                             length, pbft.Marshal(CHECKPOINT))
//	'l'   'l' seq:8 type:1 view:8 replica:4      pbft.Marshal of a PRE-PREPARE,
//	          digest:32                          PREPARE, COMMIT or CHECKPOINT
//	'v'   'v' view:8 type:1 replica:4            pbft.Marshal of a VIEW-CHANGE or
//	                                             NEW-VIEW
//	'x'   'x' seq:8                              executed batch: 0, then
//	                                             pbft.Marshal(PRE-PREPARE{View, Seq,
//	                                             Digest, Batch}); or 1, view 8,
//	                                             digest 32: "the batch of the
//	                                             logged PRE-PREPARE (seq, view,
//	                                             digest)"
//	's'   's' seq:8                              snapshot bytes
//
// Every value is a 4-byte big-endian CRC32-C of the key and the payload,
// then the payload (record.go).
//
// Log keys lead with seq so that the garbage collection of a stable
// checkpoint S is DeleteRange('l', 'l'|S+1). For a CHECKPOINT the view is 0
// and the digest is its state digest. The digest is part of the key so that
// two different messages of one replica for the same (seq, type, view) - a
// faulty replica's, logged by the core above the watermarks - both survive,
// as they do in pbft.MemoryStorage; re-logging an identical message
// overwrites it, which is harmless.
//
// View-change keys lead with the view, so that entering view v drops the
// view changes of older views with DeleteRange('v', 'v'|v): they can never
// be used again, and keeping them would grow without bound across view
// changes.
//
// An executed batch is normally the batch of a pre-prepare logged at the
// same seq, so it is stored as a 41-byte reference instead of a second copy
// of the batch, halving the bytes written per committed request. Both lie
// at the same seq, so the DeleteRanges of one stable checkpoint remove them
// together and a reference never outlives its target.

import (
	"encoding/binary"
	"fmt"

	"github.com/bftbed/bftbed/pbft"
)

// Kind is the record kind a key belongs to: its first byte.
type Kind byte

// The record kinds. The values are part of the on-disk format.
const (
	KindMeta       Kind = 'm'
	KindLog        Kind = 'l'
	KindViewChange Kind = 'v'
	KindExecuted   Kind = 'x'
	KindSnapshot   Kind = 's'
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindMeta:
		return "meta"
	case KindLog:
		return "log"
	case KindViewChange:
		return "view-change"
	case KindExecuted:
		return "executed"
	case KindSnapshot:
		return "snapshot"
	}
	return fmt.Sprintf("unknown kind 0x%02x", byte(k))
}

// Meta keys: the second byte names the record.
const (
	metaFormat = 'f'
	metaView   = 'v'
	metaStable = 's'
)

// Key lengths.
const (
	metaKeyLen = 2
	logKeyLen  = 1 + 8 + 1 + 8 + 4 + 32
	vcKeyLen   = 1 + 8 + 1 + 4
	seqKeyLen  = 1 + 8 // executed batches and snapshots
)

var (
	formatKey = []byte{byte(KindMeta), metaFormat}
	viewKey   = []byte{byte(KindMeta), metaView}
	stableKey = []byte{byte(KindMeta), metaStable}
)

// logKey returns the key of a log message.
func logKey(seq pbft.Seq, t pbft.MsgType, v pbft.View, r pbft.ReplicaID, d pbft.Digest) []byte {
	k := make([]byte, 0, logKeyLen)
	k = append(k, byte(KindLog))
	k = binary.BigEndian.AppendUint64(k, uint64(seq))
	k = append(k, byte(t))
	k = binary.BigEndian.AppendUint64(k, uint64(v))
	k = binary.BigEndian.AppendUint32(k, uint32(r))
	return append(k, d[:]...)
}

// vcKey returns the key of a view-change or new-view message.
func vcKey(v pbft.View, t pbft.MsgType, r pbft.ReplicaID) []byte {
	k := make([]byte, 0, vcKeyLen)
	k = append(k, byte(KindViewChange))
	k = binary.BigEndian.AppendUint64(k, uint64(v))
	k = append(k, byte(t))
	return binary.BigEndian.AppendUint32(k, uint32(r))
}

// seqKey returns the key of an executed batch or a snapshot at seq.
func seqKey(kind Kind, seq uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{byte(kind)}, seq)
}

// kindStart returns the first key of kind's range, kindEnd the first key
// after it.
func kindStart(kind Kind) []byte { return []byte{byte(kind)} }
func kindEnd(kind Kind) []byte   { return []byte{byte(kind) + 1} }

// above returns the first key of kind's range whose 8-byte number (seq or
// view) is above n, or kindEnd(kind) when there is none: the end of a
// DeleteRange that removes everything at or below n, or the start of a scan
// of what lies above it.
func above(kind Kind, n uint64) []byte {
	if n == ^uint64(0) {
		return kindEnd(kind)
	}
	return seqKey(kind, n+1)
}

// KeyInfo is a key decoded into its fields, for error messages. Fields that
// the key's kind does not have are zero.
type KeyInfo struct {
	Kind    Kind
	Meta    byte // the meta record's name: 'f', 'v' or 's'
	Seq     pbft.Seq
	Type    pbft.MsgType
	View    pbft.View
	Replica pbft.ReplicaID
	Digest  pbft.Digest
	// Valid is false when the key has no valid layout; only Kind (its
	// first byte, if any) is then meaningful.
	Valid bool
}

// parseKey decodes key. It never panics; a key with no valid layout yields
// Valid == false.
func parseKey(key []byte) KeyInfo {
	var ki KeyInfo
	if len(key) == 0 {
		return ki
	}
	ki.Kind = Kind(key[0])
	switch ki.Kind {
	case KindMeta:
		if len(key) == metaKeyLen && (key[1] == metaFormat || key[1] == metaView || key[1] == metaStable) {
			ki.Meta, ki.Valid = key[1], true
		}
	case KindLog:
		if len(key) == logKeyLen {
			ki.Seq = pbft.Seq(binary.BigEndian.Uint64(key[1:]))
			ki.Type = pbft.MsgType(key[9])
			ki.View = pbft.View(binary.BigEndian.Uint64(key[10:]))
			ki.Replica = pbft.ReplicaID(binary.BigEndian.Uint32(key[18:]))
			copy(ki.Digest[:], key[22:])
			switch ki.Type {
			case pbft.MsgPrePrepare, pbft.MsgPrepare, pbft.MsgCommit:
				ki.Valid = true
			case pbft.MsgCheckpoint:
				ki.Valid = ki.View == 0
			}
		}
	case KindViewChange:
		if len(key) == vcKeyLen {
			ki.View = pbft.View(binary.BigEndian.Uint64(key[1:]))
			ki.Type = pbft.MsgType(key[9])
			ki.Replica = pbft.ReplicaID(binary.BigEndian.Uint32(key[10:]))
			ki.Valid = ki.Type == pbft.MsgViewChange || ki.Type == pbft.MsgNewView
		}
	case KindExecuted, KindSnapshot:
		if len(key) == seqKeyLen {
			ki.Seq = pbft.Seq(binary.BigEndian.Uint64(key[1:]))
			ki.Valid = true
		}
	}
	return ki
}

// String describes the key's fields, e.g. "log seq=12 type=PREPARE view=0
// replica=2 digest=1f2e3d4c5b6a7980".
func (ki KeyInfo) String() string {
	if !ki.Valid {
		return ki.Kind.String() + " (malformed key)"
	}
	switch ki.Kind {
	case KindMeta:
		switch ki.Meta {
		case metaFormat:
			return "meta format-version"
		case metaView:
			return "meta view-status"
		default:
			return "meta stable-checkpoint"
		}
	case KindLog:
		return fmt.Sprintf("log seq=%d type=%s view=%d replica=%d digest=%s", ki.Seq, ki.Type, ki.View, ki.Replica, ki.Digest)
	case KindViewChange:
		return fmt.Sprintf("view-change view=%d type=%s replica=%d", ki.View, ki.Type, ki.Replica)
	default:
		return fmt.Sprintf("%s seq=%d", ki.Kind, ki.Seq)
	}
}

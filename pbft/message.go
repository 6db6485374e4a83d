package pbft

import "github.com/bftbed/bftbed/crypto"

// MsgType tags each protocol message on the wire and in its signature's
// domain, so a signature for one type never verifies as another.
type MsgType uint8

// The protocol messages. The values are part of the wire format.
const (
	MsgRequest    MsgType = 1
	MsgPrePrepare MsgType = 2
	MsgPrepare    MsgType = 3
	MsgCommit     MsgType = 4
	MsgReply      MsgType = 5
	MsgCheckpoint MsgType = 6
	MsgViewChange MsgType = 7
	MsgNewView    MsgType = 8
	MsgFetchState MsgType = 9
	MsgState      MsgType = 10
	MsgCommitted  MsgType = 11
)

var msgTypeNames = [...]string{
	MsgRequest: "REQUEST", MsgPrePrepare: "PRE-PREPARE", MsgPrepare: "PREPARE",
	MsgCommit: "COMMIT", MsgReply: "REPLY", MsgCheckpoint: "CHECKPOINT",
	MsgViewChange: "VIEW-CHANGE", MsgNewView: "NEW-VIEW",
	MsgFetchState: "FETCH-STATE", MsgState: "STATE", MsgCommitted: "COMMITTED",
}

// String returns the paper's name of the message type.
func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) && msgTypeNames[t] != "" {
		return msgTypeNames[t]
	}
	return "UNKNOWN"
}

// Message is one of the protocol messages below (always a pointer).
type Message interface {
	Type() MsgType
}

// Request is <REQUEST, o, t, c>σc: operation Op with timestamp Timestamp,
// signed by client Client. Timestamps are totally ordered per client.
type Request struct {
	Client    ClientID
	Timestamp uint64
	Op        []byte
	Sig       crypto.Signature
}

// PrePrepare is <PRE-PREPARE, v, n, d>σp with the batch m whose digest is d.
// The signature covers the header only; the batch is bound by its digest.
type PrePrepare struct {
	View    View
	Seq     Seq
	Digest  Digest
	Replica ReplicaID
	Sig     crypto.Signature
	Batch   []*Request
}

// Prepare is <PREPARE, v, n, d, i>σi, sent by backups.
type Prepare struct {
	View    View
	Seq     Seq
	Digest  Digest
	Replica ReplicaID
	Sig     crypto.Signature
}

// Commit is <COMMIT, v, n, d, i>σi.
type Commit struct {
	View    View
	Seq     Seq
	Digest  Digest
	Replica ReplicaID
	Sig     crypto.Signature
}

// Reply is <REPLY, v, t, c, i, r>σi: replica i's result r for client c's
// request with timestamp t, executed in view v.
//
// A replica signs the replies of one step together (see merkle.go): Sig
// signs (v, i, Root), where Root is the Merkle root over the step's replies,
// and Proof is the path from this reply's leaf, at Index of Count, to Root.
type Reply struct {
	View      View
	Timestamp uint64
	Client    ClientID
	Replica   ReplicaID
	Result    []byte
	Root      Digest
	Index     uint32
	Count     uint32
	Proof     []Digest
	Sig       crypto.Signature
}

// Checkpoint is <CHECKPOINT, n, d, i>σi: replica i's digest d of the state
// after executing sequence number n.
type Checkpoint struct {
	Seq     Seq
	State   Digest
	Replica ReplicaID
	Sig     crypto.Signature
}

// PreparedProof is one element of a VIEW-CHANGE's P: a pre-prepare (with its
// batch) and 2f matching prepares from distinct backups, which together prove
// that the request prepared at the sender in the pre-prepare's view.
type PreparedProof struct {
	PrePrepare *PrePrepare
	Prepares   []*Prepare
}

// ViewChange is <VIEW-CHANGE, v+1, n, C, P, i>σi. Stable is n, the sequence
// number of the sender's last stable checkpoint; C is its 2f+1 proof (empty
// when n = 0); P holds a PreparedProof for each request prepared above n.
type ViewChange struct {
	View    View
	Stable  Seq
	C       []*Checkpoint
	P       []*PreparedProof
	Replica ReplicaID
	Sig     crypto.Signature
}

// NewView is <NEW-VIEW, v+1, V, O>σp. V holds the 2f+1 view-change messages
// the new primary collected; O holds the pre-prepares it derived from them
// with the min-s/max-s rule (without batches: each batch is found in V by
// its digest, or is the null request).
type NewView struct {
	View    View
	V       []*ViewChange
	O       []*PrePrepare
	Replica ReplicaID
	Sig     crypto.Signature
}

// FetchState is sent by a replica that fell behind: it has executed up to
// Seq. A peer whose stable checkpoint is above Seq answers with the chunk of
// that checkpoint's snapshot that starts at byte Offset (a STATE); a peer
// that executed past Seq answers with the commit certificates above it
// (COMMITTED messages).
type FetchState struct {
	Seq     Seq
	Offset  uint64
	Replica ReplicaID
	Sig     crypto.Signature
}

// State carries one chunk of the snapshot at stable checkpoint Seq: bytes
// [Offset, Offset+len(Chunk)) of a snapshot of Size bytes, with the 2f+1
// CHECKPOINT messages that prove the whole snapshot's digest. The receiver
// trusts the proof, never the sender: it checks the assembled snapshot
// against the proof before installing it.
type State struct {
	Seq     Seq
	Proof   []*Checkpoint
	Size    uint64
	Offset  uint64
	Chunk   []byte
	Replica ReplicaID
	Sig     crypto.Signature
}

// Committed carries a commit certificate: a pre-prepare with its batch and
// 2f+1 matching COMMITs from distinct replicas, which prove the batch
// committed at its sequence number. A replica that missed the normal case
// for that number executes the batch on this proof alone.
type Committed struct {
	PrePrepare *PrePrepare
	Commits    []*Commit
	Replica    ReplicaID
	Sig        crypto.Signature
}

// Type implementations.
func (*Request) Type() MsgType    { return MsgRequest }
func (*PrePrepare) Type() MsgType { return MsgPrePrepare }
func (*Prepare) Type() MsgType    { return MsgPrepare }
func (*Commit) Type() MsgType     { return MsgCommit }
func (*Reply) Type() MsgType      { return MsgReply }
func (*Checkpoint) Type() MsgType { return MsgCheckpoint }
func (*ViewChange) Type() MsgType { return MsgViewChange }
func (*NewView) Type() MsgType    { return MsgNewView }
func (*FetchState) Type() MsgType { return MsgFetchState }
func (*State) Type() MsgType      { return MsgState }
func (*Committed) Type() MsgType  { return MsgCommitted }

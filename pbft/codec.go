package pbft

// The wire format.
//
// A message is its MsgType byte followed by its body. A body is the struct's
// fields in declaration order:
//
//	ReplicaID                  4 bytes, big-endian
//	View, Seq, Timestamp       8 bytes, big-endian
//	Digest, ClientID           32 bytes
//	Sig                        64 bytes
//	[]byte (Op, Result, ...)   uvarint length, then the bytes
//	list of messages           uvarint count, then each element's body
//
// Nested messages (the elements of Batch, C, P, V, O and Proof, and a
// PreparedProof's PrePrepare) are bodies without a type byte: the field
// implies the type. A nested PrePrepare is encoded whole, Batch included.
//
// Every message has exactly one encoding: integers are fixed-width, uvarints
// must be minimal, nothing may follow the message, and an empty byte string
// or list is the same bytes whether the field is nil or empty (Unmarshal
// returns nil). So Marshal(Unmarshal(b)) == b for every b Unmarshal accepts,
// and two replicas that sign or hash the same message sign or hash the same
// bytes.
//
// Sig follows the signed fields, so SigningBytes(m) is a prefix of
// Marshal(m): everything before Sig. Only a PrePrepare has a field after Sig,
// its Batch, which is not signed because Digest binds it.

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/bftbed/bftbed/crypto"
)

// Sizes of the fixed-width parts of a body.
const (
	sigLen    = len(crypto.Signature{})
	digestLen = len(Digest{})
	keyLen    = len(ClientID{})

	// voteLen is View, Seq, Digest, Replica: the signed header shared by
	// PrePrepare, Prepare and Commit.
	voteLen       = 8 + 8 + digestLen + 4
	prepareLen    = voteLen + sigLen
	checkpointLen = 8 + digestLen + 4 + sigLen
	fetchStateLen = 8 + 8 + 4 + sigLen
	// replySignedLen is View, Replica, Root: what a REPLY's signature
	// covers.
	replySignedLen = 8 + 4 + digestLen
	// requestFixedLen is a Request body without its Op bytes and length.
	requestFixedLen = keyLen + 8 + sigLen
)

// Zero values that stand in for nil pointers when encoding, so that Marshal
// of a struct with a nil nested pointer encodes zero fields instead of
// panicking.
var (
	zeroRequest    Request
	zeroPrePrepare PrePrepare
	zeroPrepare    Prepare
	zeroCheckpoint Checkpoint
	zeroProof      PreparedProof
	zeroViewChange ViewChange
	zeroReply      Reply
	zeroNewView    NewView
	zeroFetchState FetchState
	zeroState      State
	zeroCommitted  Committed
	zeroSig        crypto.Signature
)

// Marshal returns the canonical encoding of m. m must be one of the message
// types of this package (a nil *T encodes as a zero T; a nil element of a
// list or a nil PreparedProof.PrePrepare encodes as a zero value, which
// decodes as a non-nil zero value). Marshal panics if m is nil or of another
// type, a programming error. It does not enforce the size limits: Unmarshal
// does.
func Marshal(m Message) []byte {
	return appendMessage(make([]byte, 0, 1+bodySize(m)), m)
}

// AppendMarshal appends the canonical encoding of m to dst and returns the
// extended buffer, growing it at most once. See Marshal.
func AppendMarshal(dst []byte, m Message) []byte {
	return appendMessage(slices.Grow(dst, 1+bodySize(m)), m)
}

// SigningBytes returns the bytes a signature on m covers: the canonical
// encoding of m (type byte included) without its own Sig and, for a
// *PrePrepare, without its Batch, which the signed Digest binds. Nested
// messages are included whole, their signatures included. It is a prefix of
// Marshal(m). It panics like Marshal.
func SigningBytes(m Message) []byte {
	return appendSigning(make([]byte, 0, 1+signedSize(m)), m)
}

// RequestDigest returns the digest of r: the hash of its SigningBytes. The
// signature is not covered, so the digest names the operation, its
// timestamp and its client only.
func RequestDigest(r *Request) Digest {
	// Small requests are encoded on the stack.
	var buf [256]byte
	return crypto.Hash(appendSigning(buf[:0], r))
}

// batchTag separates batch digests from every other hash in bftbed.
const batchTag = "bftbed/pbft/batch/v1\x00"

// BatchDigest returns the digest of a batch: the hash of a domain tag, the
// number of requests (8 bytes, big-endian) and each request's RequestDigest
// in order. Hashing request digests rather than requests lets a replica
// compare a batch with requests it already knows by digest.
func BatchDigest(batch []*Request) Digest {
	buf := make([]byte, 0, len(batchTag)+8+len(batch)*digestLen)
	buf = append(buf, batchTag...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(batch)))
	for _, r := range batch {
		d := RequestDigest(r)
		buf = append(buf, d[:]...)
	}
	return crypto.Hash(buf)
}

// NullDigest is the digest of the null request, the empty batch a new
// primary proposes for a sequence number nothing prepared at:
// BatchDigest(nil).
var NullDigest = BatchDigest(nil)

// CheckBatchDigest reports whether pp.Digest is the digest of pp.Batch.
// Authenticate does not check it (it checks signatures only); the core must,
// for every pre-prepare that carries a batch.
func CheckBatchDigest(pp *PrePrepare) bool {
	return pp.Digest == BatchDigest(pp.Batch)
}

// unknownType panics for a Message implementation this codec does not know.
func unknownType(m Message) {
	panic(fmt.Sprintf("pbft: cannot encode message of type %T", m))
}

// uvarintLen returns the length of the uvarint encoding of n.
func uvarintLen(n int) int {
	return (bits.Len64(uint64(n)|1) + 6) / 7
}

func bytesSize(b []byte) int { return uvarintLen(len(b)) + len(b) }

func appendBytes(dst, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// bodySize returns the length of m's body (its encoding without the type
// byte).
func bodySize(m Message) int {
	switch x := m.(type) {
	case *PrePrepare:
		return prePrepareSize(x)
	case *ViewChange:
		return viewChangeSize(x)
	case *Reply:
		if x == nil {
			x = &zeroReply
		}
		return replySignedLen + 8 + keyLen + bytesSize(x.Result) + 4 + 4 + uvarintLen(len(x.Proof)) + len(x.Proof)*digestLen + sigLen
	}
	// For every other type Sig is the last field.
	return signedSize(m) + sigLen
}

// signedSize returns the length of m's signing bytes without the type byte.
func signedSize(m Message) int {
	switch x := m.(type) {
	case *Request:
		if x == nil {
			x = &zeroRequest
		}
		return keyLen + 8 + bytesSize(x.Op)
	case *PrePrepare, *Prepare, *Commit:
		return voteLen
	case *Reply:
		return replySignedLen
	case *Checkpoint:
		return checkpointLen - sigLen
	case *ViewChange:
		return viewChangeSize(x) - sigLen
	case *NewView:
		if x == nil {
			return 8 + 1 + 1 + 4
		}
		n := 8 + uvarintLen(len(x.V)) + uvarintLen(len(x.O)) + 4
		for _, vc := range x.V {
			n += viewChangeSize(vc)
		}
		for _, pp := range x.O {
			n += prePrepareSize(pp)
		}
		return n
	case *FetchState:
		return fetchStateLen - sigLen
	case *State:
		if x == nil {
			return 8 + 1 + 8 + 8 + 1 + 4
		}
		return 8 + uvarintLen(len(x.Proof)) + len(x.Proof)*checkpointLen + 8 + 8 + bytesSize(x.Chunk) + 4
	case *Committed:
		if x == nil {
			x = &zeroCommitted
		}
		return prePrepareSize(x.PrePrepare) + uvarintLen(len(x.Commits)) + len(x.Commits)*prepareLen + 4
	}
	unknownType(m)
	return 0
}

func requestSize(r *Request) int {
	if r == nil {
		r = &zeroRequest
	}
	return requestFixedLen + bytesSize(r.Op)
}

func prePrepareSize(pp *PrePrepare) int {
	if pp == nil {
		pp = &zeroPrePrepare
	}
	n := prepareLen + uvarintLen(len(pp.Batch))
	for _, r := range pp.Batch {
		n += requestSize(r)
	}
	return n
}

func proofSize(p *PreparedProof) int {
	if p == nil {
		p = &zeroProof
	}
	return prePrepareSize(p.PrePrepare) + uvarintLen(len(p.Prepares)) + len(p.Prepares)*prepareLen
}

func viewChangeSize(vc *ViewChange) int {
	if vc == nil {
		vc = &zeroViewChange
	}
	n := 8 + 8 + uvarintLen(len(vc.C)) + len(vc.C)*checkpointLen + uvarintLen(len(vc.P)) + 4 + sigLen
	for _, p := range vc.P {
		n += proofSize(p)
	}
	return n
}

// appendMessage appends m's type byte and body.
func appendMessage(dst []byte, m Message) []byte {
	switch x := m.(type) {
	case *PrePrepare:
		return appendPrePrepare(append(dst, byte(MsgPrePrepare)), x)
	case *ViewChange:
		return appendViewChange(append(dst, byte(MsgViewChange)), x)
	case *Reply:
		if x == nil {
			x = &zeroReply
		}
		dst = appendSigning(dst, x)
		dst = binary.BigEndian.AppendUint64(dst, x.Timestamp)
		dst = append(dst, x.Client[:]...)
		dst = appendBytes(dst, x.Result)
		dst = binary.BigEndian.AppendUint32(dst, x.Index)
		dst = binary.BigEndian.AppendUint32(dst, x.Count)
		dst = binary.AppendUvarint(dst, uint64(len(x.Proof)))
		for _, d := range x.Proof {
			dst = append(dst, d[:]...)
		}
		return append(dst, x.Sig[:]...)
	}
	dst = appendSigning(dst, m) // panics for a foreign type
	if s := sigPtr(m); s != nil {
		return append(dst, s[:]...)
	}
	return append(dst, zeroSig[:]...)
}

// appendSigning appends m's type byte and the signed part of its body.
func appendSigning(dst []byte, m Message) []byte {
	switch x := m.(type) {
	case *Request:
		return appendRequestSigned(append(dst, byte(MsgRequest)), x)
	case *PrePrepare:
		return appendPrePrepareSigned(append(dst, byte(MsgPrePrepare)), x)
	case *Prepare:
		return appendVote(append(dst, byte(MsgPrepare)), x)
	case *Commit:
		return appendVote(append(dst, byte(MsgCommit)), (*Prepare)(x))
	case *Reply:
		if x == nil {
			x = &zeroReply
		}
		// The signature covers the view, the replica and the Merkle root
		// of the step's replies; the rest of the body ties this reply to
		// the root (see merkle.go).
		dst = append(dst, byte(MsgReply))
		dst = binary.BigEndian.AppendUint64(dst, uint64(x.View))
		dst = binary.BigEndian.AppendUint32(dst, uint32(x.Replica))
		return append(dst, x.Root[:]...)
	case *Checkpoint:
		return appendCheckpointSigned(append(dst, byte(MsgCheckpoint)), x)
	case *ViewChange:
		return appendViewChangeSigned(append(dst, byte(MsgViewChange)), x)
	case *NewView:
		if x == nil {
			x = &zeroNewView
		}
		dst = append(dst, byte(MsgNewView))
		dst = binary.BigEndian.AppendUint64(dst, uint64(x.View))
		dst = binary.AppendUvarint(dst, uint64(len(x.V)))
		for _, vc := range x.V {
			dst = appendViewChange(dst, vc)
		}
		dst = binary.AppendUvarint(dst, uint64(len(x.O)))
		for _, pp := range x.O {
			dst = appendPrePrepare(dst, pp)
		}
		return binary.BigEndian.AppendUint32(dst, uint32(x.Replica))
	case *FetchState:
		if x == nil {
			x = &zeroFetchState
		}
		dst = append(dst, byte(MsgFetchState))
		dst = binary.BigEndian.AppendUint64(dst, uint64(x.Seq))
		dst = binary.BigEndian.AppendUint64(dst, x.Offset)
		return binary.BigEndian.AppendUint32(dst, uint32(x.Replica))
	case *State:
		if x == nil {
			x = &zeroState
		}
		dst = append(dst, byte(MsgState))
		dst = binary.BigEndian.AppendUint64(dst, uint64(x.Seq))
		dst = binary.AppendUvarint(dst, uint64(len(x.Proof)))
		for _, c := range x.Proof {
			dst = appendCheckpoint(dst, c)
		}
		dst = binary.BigEndian.AppendUint64(dst, x.Size)
		dst = binary.BigEndian.AppendUint64(dst, x.Offset)
		dst = appendBytes(dst, x.Chunk)
		return binary.BigEndian.AppendUint32(dst, uint32(x.Replica))
	case *Committed:
		if x == nil {
			x = &zeroCommitted
		}
		dst = appendPrePrepare(append(dst, byte(MsgCommitted)), x.PrePrepare)
		dst = binary.AppendUvarint(dst, uint64(len(x.Commits)))
		for _, c := range x.Commits {
			dst = appendPrepare(dst, (*Prepare)(c))
		}
		return binary.BigEndian.AppendUint32(dst, uint32(x.Replica))
	}
	unknownType(m)
	return nil
}

// sigPtr returns a pointer to m's Sig field, or nil if m is nil or not a
// message of this package.
func sigPtr(m Message) *crypto.Signature {
	switch x := m.(type) {
	case *Request:
		if x != nil {
			return &x.Sig
		}
	case *PrePrepare:
		if x != nil {
			return &x.Sig
		}
	case *Prepare:
		if x != nil {
			return &x.Sig
		}
	case *Commit:
		if x != nil {
			return &x.Sig
		}
	case *Reply:
		if x != nil {
			return &x.Sig
		}
	case *Checkpoint:
		if x != nil {
			return &x.Sig
		}
	case *ViewChange:
		if x != nil {
			return &x.Sig
		}
	case *NewView:
		if x != nil {
			return &x.Sig
		}
	case *FetchState:
		if x != nil {
			return &x.Sig
		}
	case *State:
		if x != nil {
			return &x.Sig
		}
	case *Committed:
		if x != nil {
			return &x.Sig
		}
	}
	return nil
}

// The append functions below encode bodies (no type byte) and accept nil.

func appendRequestSigned(dst []byte, r *Request) []byte {
	if r == nil {
		r = &zeroRequest
	}
	dst = append(dst, r.Client[:]...)
	dst = binary.BigEndian.AppendUint64(dst, r.Timestamp)
	return appendBytes(dst, r.Op)
}

func appendRequest(dst []byte, r *Request) []byte {
	if r == nil {
		r = &zeroRequest
	}
	dst = appendRequestSigned(dst, r)
	return append(dst, r.Sig[:]...)
}

// appendVote encodes the signed part of a Prepare or a Commit, which have the
// same fields.
func appendVote(dst []byte, p *Prepare) []byte {
	if p == nil {
		p = &zeroPrepare
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.View))
	dst = binary.BigEndian.AppendUint64(dst, uint64(p.Seq))
	dst = append(dst, p.Digest[:]...)
	return binary.BigEndian.AppendUint32(dst, uint32(p.Replica))
}

func appendPrepare(dst []byte, p *Prepare) []byte {
	if p == nil {
		p = &zeroPrepare
	}
	return append(appendVote(dst, p), p.Sig[:]...)
}

func appendPrePrepareSigned(dst []byte, pp *PrePrepare) []byte {
	if pp == nil {
		pp = &zeroPrePrepare
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(pp.View))
	dst = binary.BigEndian.AppendUint64(dst, uint64(pp.Seq))
	dst = append(dst, pp.Digest[:]...)
	return binary.BigEndian.AppendUint32(dst, uint32(pp.Replica))
}

func appendPrePrepare(dst []byte, pp *PrePrepare) []byte {
	if pp == nil {
		pp = &zeroPrePrepare
	}
	dst = appendPrePrepareSigned(dst, pp)
	dst = append(dst, pp.Sig[:]...)
	dst = binary.AppendUvarint(dst, uint64(len(pp.Batch)))
	for _, r := range pp.Batch {
		dst = appendRequest(dst, r)
	}
	return dst
}

func appendCheckpointSigned(dst []byte, c *Checkpoint) []byte {
	if c == nil {
		c = &zeroCheckpoint
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(c.Seq))
	dst = append(dst, c.State[:]...)
	return binary.BigEndian.AppendUint32(dst, uint32(c.Replica))
}

func appendCheckpoint(dst []byte, c *Checkpoint) []byte {
	if c == nil {
		c = &zeroCheckpoint
	}
	return append(appendCheckpointSigned(dst, c), c.Sig[:]...)
}

func appendProof(dst []byte, p *PreparedProof) []byte {
	if p == nil {
		p = &zeroProof
	}
	dst = appendPrePrepare(dst, p.PrePrepare)
	dst = binary.AppendUvarint(dst, uint64(len(p.Prepares)))
	for _, q := range p.Prepares {
		dst = appendPrepare(dst, q)
	}
	return dst
}

func appendViewChangeSigned(dst []byte, vc *ViewChange) []byte {
	if vc == nil {
		vc = &zeroViewChange
	}
	dst = binary.BigEndian.AppendUint64(dst, uint64(vc.View))
	dst = binary.BigEndian.AppendUint64(dst, uint64(vc.Stable))
	dst = binary.AppendUvarint(dst, uint64(len(vc.C)))
	for _, c := range vc.C {
		dst = appendCheckpoint(dst, c)
	}
	dst = binary.AppendUvarint(dst, uint64(len(vc.P)))
	for _, p := range vc.P {
		dst = appendProof(dst, p)
	}
	return binary.BigEndian.AppendUint32(dst, uint32(vc.Replica))
}

func appendViewChange(dst []byte, vc *ViewChange) []byte {
	if vc == nil {
		vc = &zeroViewChange
	}
	return append(appendViewChangeSigned(dst, vc), vc.Sig[:]...)
}

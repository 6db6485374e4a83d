package pbft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Smallest possible bodies, used to reject a list count that the remaining
// bytes cannot hold before allocating anything for it.
const (
	minRequestLen    = requestFixedLen + 1
	minPrePrepareLen = prepareLen + 1
	minProofLen      = minPrePrepareLen + 1
	minViewChangeLen = 8 + 8 + 1 + 1 + 4 + sigLen
)

// Unmarshal decodes one message from b, which must hold exactly one
// canonical encoding (see Marshal) within the size limits of limits.go. It
// never panics, and its errors say what is wrong and where, e.g.
// "pbft: decode NEW-VIEW: V[2].P[0].PrePrepare: Batch has 20001 requests,
// limit 10000".
//
// The result does not alias b. Its byte strings (Op, Result, Snapshot) share
// one private copy of b, each capped so that appending to one never
// overwrites another; empty ones are nil. Elements of a list are allocated
// together, so keeping one alive keeps its siblings alive.
func Unmarshal(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, errors.New("pbft: decode: empty message")
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("pbft: decode %s: message is %d bytes, limit %d", MsgType(b[0]), len(b), MaxMessageSize)
	}
	r := reader{buf: b, off: 1}
	var m Message
	switch t := MsgType(b[0]); t {
	case MsgRequest:
		x := new(Request)
		r.request(x)
		m = x
	case MsgPrePrepare:
		x := new(PrePrepare)
		r.prePrepare(x)
		m = x
	case MsgPrepare:
		x := new(Prepare)
		r.vote(x)
		m = x
	case MsgCommit:
		x := new(Commit)
		r.vote((*Prepare)(x))
		m = x
	case MsgReply:
		x := new(Reply)
		x.View = View(r.u64("View"))
		x.Replica = ReplicaID(r.u32("Replica"))
		r.fixed(x.Root[:], "Root")
		x.Timestamp = r.u64("Timestamp")
		r.fixed(x.Client[:], "Client")
		x.Result = r.bytes("Result", MaxOpSize)
		x.Index = r.u32("Index")
		x.Count = r.u32("Count")
		if n := r.count("Proof", "digests", maxReplyPath, digestLen); n > 0 {
			x.Proof = make([]Digest, n)
			for i := range x.Proof {
				r.fixed(x.Proof[i][:], "Proof")
			}
		}
		r.fixed(x.Sig[:], "Sig")
		m = x
	case MsgCheckpoint:
		x := new(Checkpoint)
		r.checkpoint(x)
		m = x
	case MsgViewChange:
		x := new(ViewChange)
		r.viewChange(x)
		m = x
	case MsgNewView:
		x := new(NewView)
		r.newView(x)
		m = x
	case MsgFetchState:
		x := new(FetchState)
		x.Seq = Seq(r.u64("Seq"))
		x.Offset = r.u64("Offset")
		x.Replica = ReplicaID(r.u32("Replica"))
		r.fixed(x.Sig[:], "Sig")
		m = x
	case MsgState:
		x := new(State)
		x.Seq = Seq(r.u64("Seq"))
		x.Proof = r.checkpoints("Proof")
		x.Size = r.u64("Size")
		x.Offset = r.u64("Offset")
		x.Chunk = r.bytes("Chunk", MaxStateChunk)
		switch {
		case r.err != nil:
		case x.Size > MaxSnapshotSize:
			r.fail("Size is %d bytes, limit %d", x.Size, MaxSnapshotSize)
		case x.Offset > x.Size || uint64(len(x.Chunk)) > x.Size-x.Offset:
			r.fail("chunk [%d, %d) lies outside a snapshot of %d bytes", x.Offset, x.Offset+uint64(len(x.Chunk)), x.Size)
		}
		x.Replica = ReplicaID(r.u32("Replica"))
		r.fixed(x.Sig[:], "Sig")
		m = x
	case MsgCommitted:
		x := new(Committed)
		x.PrePrepare = new(PrePrepare)
		r.prePrepare(x.PrePrepare)
		if r.err != nil {
			r.at("PrePrepare", -1)
		}
		x.Commits = r.commits()
		x.Replica = ReplicaID(r.u32("Replica"))
		r.fixed(x.Sig[:], "Sig")
		m = x
	default:
		return nil, fmt.Errorf("pbft: decode: unknown message type %d", b[0])
	}
	if r.err == nil && r.off != len(b) {
		r.fail("%d trailing bytes after the message", len(b)-r.off)
	}
	if r.err != nil {
		return nil, r.error(MsgType(b[0]))
	}
	return m, nil
}

// reader decodes a message strictly. Its first error sticks: later reads
// return zero values, and the decode functions return as soon as they see
// it, recording where they were in path.
type reader struct {
	buf []byte // the whole message
	off int    // next byte to read
	// own is a private copy of buf, made at the first non-empty byte
	// string, that decoded byte strings alias.
	own  []byte
	err  error
	path []string // innermost first, filled while an error unwinds
}

// fail records an error (if none yet) and makes every later read fail.
func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.off = len(r.buf)
}

// at records, while an error unwinds, that it happened in element i of the
// list field (i >= 0) or in the field itself (i < 0).
func (r *reader) at(field string, i int) {
	if i < 0 {
		r.path = append(r.path, field)
	} else {
		r.path = append(r.path, fmt.Sprintf("%s[%d]", field, i))
	}
}

// error returns the recorded error in its final form.
func (r *reader) error(t MsgType) error {
	if len(r.path) == 0 {
		return fmt.Errorf("pbft: decode %s: %w", t, r.err)
	}
	var sb strings.Builder
	for i := len(r.path) - 1; i >= 0; i-- {
		sb.WriteString(r.path[i])
		if i > 0 {
			sb.WriteByte('.')
		}
	}
	return fmt.Errorf("pbft: decode %s: %s: %w", t, sb.String(), r.err)
}

// need reports whether n more bytes are there, failing if not.
func (r *reader) need(n int, what string) bool {
	if len(r.buf)-r.off >= n {
		return true
	}
	if r.err == nil {
		r.fail("truncated at offset %d: %s needs %d bytes, %d left", r.off, what, n, len(r.buf)-r.off)
	}
	return false
}

func (r *reader) u32(what string) uint32 {
	if !r.need(4, what) {
		return 0
	}
	v := binary.BigEndian.Uint32(r.buf[r.off:])
	r.off += 4
	return v
}

func (r *reader) u64(what string) uint64 {
	if !r.need(8, what) {
		return 0
	}
	v := binary.BigEndian.Uint64(r.buf[r.off:])
	r.off += 8
	return v
}

// fixed fills dst (a digest, key or signature).
func (r *reader) fixed(dst []byte, what string) {
	if r.need(len(dst), what) {
		r.off += copy(dst, r.buf[r.off:])
	}
}

// uvarint reads a minimally encoded uvarint.
func (r *reader) uvarint(what string) uint64 {
	if r.off < len(r.buf) && r.buf[r.off] < 0x80 { // the common case
		r.off++
		return uint64(r.buf[r.off-1])
	}
	start := r.off
	var v uint64
	for shift := uint(0); ; shift += 7 {
		if r.off >= len(r.buf) {
			if r.err == nil {
				r.fail("truncated at offset %d: %s length is cut short", start, what)
			}
			return 0
		}
		c := r.buf[r.off]
		r.off++
		if shift == 63 && c > 1 {
			r.fail("length of %s at offset %d overflows 64 bits", what, start)
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			// A multi-byte uvarint ending in a zero byte has a shorter
			// encoding.
			if c == 0 && shift > 0 {
				r.fail("non-minimal length of %s at offset %d", what, start)
				return 0
			}
			return v
		}
	}
}

// count reads the length of a list field whose elements (named unit in
// errors) take at least minLen bytes each, and checks it against limit and
// against the bytes left before anything is allocated for it.
func (r *reader) count(field, unit string, limit, minLen int) int {
	n := r.uvarint(field)
	if r.err != nil {
		return 0
	}
	if n > uint64(limit) {
		r.fail("%s has %d %s, limit %d", field, n, unit, limit)
		return 0
	}
	if left := len(r.buf) - r.off; int(n)*minLen > left {
		r.fail("%s claims %d %s but only %d bytes are left", field, n, unit, left)
		return 0
	}
	return int(n)
}

// bytes reads a byte string of at most limit bytes; empty is nil.
func (r *reader) bytes(field string, limit int) []byte {
	n := r.uvarint(field)
	if r.err != nil {
		return nil
	}
	if n > uint64(limit) {
		r.fail("%s is %d bytes, limit %d", field, n, limit)
		return nil
	}
	if !r.need(int(n), field) || n == 0 {
		return nil
	}
	if r.own == nil {
		r.own = append([]byte(nil), r.buf...)
	}
	end := r.off + int(n)
	b := r.own[r.off:end:end]
	r.off = end
	return b
}

func (r *reader) request(q *Request) {
	r.fixed(q.Client[:], "Client")
	q.Timestamp = r.u64("Timestamp")
	q.Op = r.bytes("Op", MaxOpSize)
	r.fixed(q.Sig[:], "Sig")
}

// vote decodes a Prepare or, converted, a Commit.
func (r *reader) vote(p *Prepare) {
	p.View = View(r.u64("View"))
	p.Seq = Seq(r.u64("Seq"))
	r.fixed(p.Digest[:], "Digest")
	p.Replica = ReplicaID(r.u32("Replica"))
	r.fixed(p.Sig[:], "Sig")
}

func (r *reader) prePrepare(pp *PrePrepare) {
	pp.View = View(r.u64("View"))
	pp.Seq = Seq(r.u64("Seq"))
	r.fixed(pp.Digest[:], "Digest")
	pp.Replica = ReplicaID(r.u32("Replica"))
	r.fixed(pp.Sig[:], "Sig")
	n := r.count("Batch", "requests", MaxBatchRequests, minRequestLen)
	if n == 0 {
		return
	}
	slab := make([]Request, n)
	pp.Batch = make([]*Request, n)
	for i := range slab {
		r.request(&slab[i])
		if r.err != nil {
			r.at("Batch", i)
			return
		}
		pp.Batch[i] = &slab[i]
	}
}

func (r *reader) checkpoint(c *Checkpoint) {
	c.Seq = Seq(r.u64("Seq"))
	r.fixed(c.State[:], "State")
	c.Replica = ReplicaID(r.u32("Replica"))
	r.fixed(c.Sig[:], "Sig")
}

// checkpoints decodes a list of checkpoints (a C or a Proof).
func (r *reader) checkpoints(field string) []*Checkpoint {
	n := r.count(field, "checkpoints", MaxCheckpointProof, checkpointLen)
	if n == 0 {
		return nil
	}
	slab := make([]Checkpoint, n)
	list := make([]*Checkpoint, n)
	for i := range slab {
		r.checkpoint(&slab[i])
		if r.err != nil {
			r.at(field, i)
			return nil
		}
		list[i] = &slab[i]
	}
	return list
}

// commits decodes a COMMITTED's commits.
func (r *reader) commits() []*Commit {
	n := r.count("Commits", "commits", MaxCommitsPerProof, prepareLen)
	if n == 0 {
		return nil
	}
	slab := make([]Commit, n)
	list := make([]*Commit, n)
	for i := range slab {
		r.vote((*Prepare)(&slab[i]))
		if r.err != nil {
			r.at("Commits", i)
			return nil
		}
		list[i] = &slab[i]
	}
	return list
}

// proof decodes p, storing its pre-prepare in pp.
func (r *reader) proof(p *PreparedProof, pp *PrePrepare) {
	p.PrePrepare = pp
	r.prePrepare(pp)
	if r.err != nil {
		r.at("PrePrepare", -1)
		return
	}
	n := r.count("Prepares", "prepares", MaxPreparesPerProof, prepareLen)
	if n == 0 {
		return
	}
	slab := make([]Prepare, n)
	p.Prepares = make([]*Prepare, n)
	for i := range slab {
		r.vote(&slab[i])
		if r.err != nil {
			r.at("Prepares", i)
			return
		}
		p.Prepares[i] = &slab[i]
	}
}

func (r *reader) viewChange(vc *ViewChange) {
	vc.View = View(r.u64("View"))
	vc.Stable = Seq(r.u64("Stable"))
	if vc.C = r.checkpoints("C"); r.err != nil {
		return
	}
	if n := r.count("P", "prepared proofs", MaxPrepared, minProofLen); n > 0 {
		slab := make([]PreparedProof, n)
		pps := make([]PrePrepare, n)
		vc.P = make([]*PreparedProof, n)
		for i := range slab {
			r.proof(&slab[i], &pps[i])
			if r.err != nil {
				r.at("P", i)
				return
			}
			vc.P[i] = &slab[i]
		}
	}
	vc.Replica = ReplicaID(r.u32("Replica"))
	r.fixed(vc.Sig[:], "Sig")
}

func (r *reader) newView(nv *NewView) {
	nv.View = View(r.u64("View"))
	if n := r.count("V", "view-changes", MaxViewChanges, minViewChangeLen); n > 0 {
		slab := make([]ViewChange, n)
		nv.V = make([]*ViewChange, n)
		for i := range slab {
			r.viewChange(&slab[i])
			if r.err != nil {
				r.at("V", i)
				return
			}
			nv.V[i] = &slab[i]
		}
	}
	if r.err != nil {
		return
	}
	if n := r.count("O", "pre-prepares", MaxPrepared, minPrePrepareLen); n > 0 {
		slab := make([]PrePrepare, n)
		nv.O = make([]*PrePrepare, n)
		for i := range slab {
			r.prePrepare(&slab[i])
			if r.err != nil {
				r.at("O", i)
				return
			}
			nv.O[i] = &slab[i]
		}
	}
	nv.Replica = ReplicaID(r.u32("Replica"))
	r.fixed(nv.Sig[:], "Sig")
}

package pbft

import (
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
)

// Replies are signed once per step, not once per request: a replica builds a
// Merkle tree over the replies it sends in one step and signs its root; each
// REPLY carries the root, the signature and the path from its own leaf. A
// client checks the path and the one signature. Signing dominated a
// replica's CPU (one Ed25519 signature per request); this makes it one per
// step, whatever the batch size.
//
// The tree hashes leaves and inner nodes under different prefixes, so a leaf
// can never pass for an inner node, and an odd node is promoted to the next
// level unchanged rather than paired with a copy of itself (which would let
// two different leaf lists share a root).

const (
	leafPrefix  = 0x00
	innerPrefix = 0x01
)

// replyLeaf is the leaf of a reply: what the root's signature vouches for,
// beside the view and the replica, which the signature covers directly.
func replyLeaf(r *Reply) Digest {
	h := sha256.New()
	var hdr [1 + 8 + 32]byte
	hdr[0] = leafPrefix
	binary.BigEndian.PutUint64(hdr[1:], r.Timestamp)
	copy(hdr[9:], r.Client[:])
	h.Write(hdr[:])
	h.Write(r.Result)
	var d Digest
	h.Sum(d[:0])
	return d
}

func innerNode(a, b Digest) Digest {
	var buf [1 + 2*32]byte
	buf[0] = innerPrefix
	copy(buf[1:], a[:])
	copy(buf[33:], b[:])
	return sha256.Sum256(buf[:])
}

// merkleTree returns the root over leaves and, for each leaf, its path:
// the sibling digests from the leaf up.
func merkleTree(leaves []Digest) (Digest, [][]Digest) {
	paths := make([][]Digest, len(leaves))
	// pos[i] is leaf i's index in the current level.
	pos := make([]int, len(leaves))
	for i := range pos {
		pos[i] = i
	}
	level := leaves
	for len(level) > 1 {
		next := make([]Digest, (len(level)+1)/2)
		for j := range next {
			if 2*j+1 < len(level) {
				next[j] = innerNode(level[2*j], level[2*j+1])
			} else {
				next[j] = level[2*j]
			}
		}
		for i, p := range pos {
			if sib := p ^ 1; sib < len(level) {
				paths[i] = append(paths[i], level[sib])
			}
			pos[i] = p / 2
		}
		level = next
	}
	if len(level) == 0 {
		return Digest{}, nil
	}
	return level[0], paths
}

// merkleRoot recomputes the root from a leaf at index of count leaves and
// its path; ok is false if the path has the wrong length for that position.
func merkleRoot(leaf Digest, index, count uint32, path []Digest) (Digest, bool) {
	if count == 0 || index >= count || count > MaxBatchRequests*16 {
		return Digest{}, false
	}
	d, p, n := leaf, index, count
	used := 0
	for n > 1 {
		if sib := p ^ 1; sib < n {
			if used >= len(path) {
				return Digest{}, false
			}
			if p&1 == 0 {
				d = innerNode(d, path[used])
			} else {
				d = innerNode(path[used], d)
			}
			used++
		}
		p, n = p/2, (n+1)/2
	}
	return d, used == len(path)
}

// maxReplyPath is the longest path a REPLY may carry.
var maxReplyPath = bits.Len32(MaxBatchRequests*16) + 1

// signReplies signs every reply of this step with one signature per view:
// each gets the root of its view's tree, its position and its path.
func (r *Replica) signReplies(replies []*Reply) {
	for start := 0; start < len(replies); {
		end := start + 1
		for end < len(replies) && replies[end].View == replies[start].View {
			end++
		}
		group := replies[start:end]
		leaves := make([]Digest, len(group))
		for i, rep := range group {
			leaves[i] = replyLeaf(rep)
		}
		root, paths := merkleTree(leaves)
		signed := &Reply{View: group[0].View, Replica: r.cfg.ID, Root: root, Count: uint32(len(group))}
		r.sign(signed)
		for i, rep := range group {
			rep.Root, rep.Index, rep.Count, rep.Proof, rep.Sig = root, uint32(i), uint32(len(group)), paths[i], signed.Sig
		}
		start = end
	}
}

// CheckReplyProof reports whether a REPLY's leaf lies under its root at its
// position: with the root's signature, this authenticates the result.
func CheckReplyProof(rep *Reply) bool {
	if len(rep.Proof) > maxReplyPath {
		return false
	}
	root, ok := merkleRoot(replyLeaf(rep), rep.Index, rep.Count, rep.Proof)
	return ok && root == rep.Root
}

package crypto

import (
	"encoding/binary"
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// domainVersion starts every signed message. Bump it if the layout of the
// signed bytes ever changes, so old and new signatures cannot be confused.
const domainVersion = "bftbed/v1"

// Domain is the signing context of one testnet. Build it once with
// [NewDomain] and share it; it is immutable, cheap to copy and comparable.
// The zero Domain behaves like NewDomain("").
type Domain struct {
	clusterID string
	// prefix is domainVersion || uvarint(len(clusterID)) || clusterID,
	// computed once so Sign and Verify only append the tag and message.
	prefix string
}

// emptyDomainPrefix is the prefix of NewDomain(""), used by the zero Domain.
var emptyDomainPrefix = NewDomain("").prefix

// NewDomain returns the domain of the testnet clusterID. Any string is
// accepted; the length prefix keeps distinct IDs from producing the same
// signed bytes.
func NewDomain(clusterID string) Domain {
	b := make([]byte, 0, len(domainVersion)+binary.MaxVarintLen64+len(clusterID))
	b = append(b, domainVersion...)
	b = binary.AppendUvarint(b, uint64(len(clusterID)))
	b = append(b, clusterID...)
	return Domain{clusterID: clusterID, prefix: string(b)}
}

// ClusterID returns the testnet ID d was built with.
func (d Domain) ClusterID() string { return d.clusterID }

// appendSigned appends the bytes that a signature under (d, tag) covers:
// the domain prefix, the tag, then msg.
func (d Domain) appendSigned(b []byte, tag byte, msg []byte) []byte {
	p := d.prefix
	if p == "" {
		p = emptyDomainPrefix
	}
	b = append(b, p...)
	b = append(b, tag)
	return append(b, msg...)
}

// signOpts selects plain, deterministic Ed25519 (no added randomness).
var signOpts = &ed25519.Options{}

// Sign signs msg under (d, tag). The signed bytes are the domain prefix
// ("bftbed/v1", the length-prefixed cluster ID), the one-byte tag, then msg.
//
// Signing is deterministic. A zero k yields the zero Signature, which never
// verifies.
func (d Domain) Sign(k PrivateKey, tag byte, msg []byte) Signature {
	var sig Signature
	if k.IsZero() {
		return sig
	}
	bp := getBuf()
	b := d.appendSigned((*bp)[:0], tag, msg)
	s, err := k.key.Sign(nil, b, signOpts)
	putBuf(bp, b)
	if err == nil {
		copy(sig[:], s)
	}
	return sig
}

// bufPool recycles the buffers in which Sign and the verifiers assemble the
// signed bytes, so the hot path does not allocate per message.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf keeps the pool from pinning the memory of one huge message.
const maxPooledBuf = 64 << 10

func getBuf() *[]byte { return bufPool.Get().(*[]byte) }

// putBuf returns b, the grown form of *bp, to the pool.
func putBuf(bp *[]byte, b []byte) {
	if cap(b) > maxPooledBuf {
		return
	}
	*bp = b[:0]
	bufPool.Put(bp)
}

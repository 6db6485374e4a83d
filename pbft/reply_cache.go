package pbft

import (
	"sync"

	"github.com/bftbed/bftbed/crypto"
)

// A replica signs all the replies of one step with one signature over their
// Merkle root, so the many clients of one process (a load generator, a
// gateway) receive that same signature many times. verifiedRoots remembers
// the roots whose signatures checked out, so each is verified once per
// process; every reply's own path to its root is still checked.

type rootKey struct {
	domain  string
	replica ReplicaID
	view    View
	root    Digest
	sig     crypto.Signature
}

// verifiedRoots is bounded: when full it is emptied, which costs only a few
// repeated verifications.
var verifiedRoots = struct {
	sync.Mutex
	m map[rootKey]crypto.PublicKey
}{m: map[rootKey]crypto.PublicKey{}}

const maxVerifiedRoots = 1 << 14

// AuthenticateReply is Authenticate for a REPLY, with the signature over
// its root checked at most once per process for a given key.
func AuthenticateReply(d crypto.Domain, keys ReplicaKeys, rep *Reply) error {
	pub, ok := keys(rep.Replica)
	if !ok || !CheckReplyProof(rep) {
		return Authenticate(d, keys, rep) // for its error
	}
	k := rootKey{domain: d.ClusterID(), replica: rep.Replica, view: rep.View, root: rep.Root, sig: rep.Sig}
	verifiedRoots.Lock()
	known, hit := verifiedRoots.m[k]
	verifiedRoots.Unlock()
	if hit && known == pub {
		return nil
	}
	if err := Authenticate(d, keys, rep); err != nil {
		return err
	}
	verifiedRoots.Lock()
	if len(verifiedRoots.m) >= maxVerifiedRoots {
		clear(verifiedRoots.m)
	}
	verifiedRoots.m[k] = pub
	verifiedRoots.Unlock()
	return nil
}

package pbft

import "github.com/bftbed/bftbed/crypto"

// Signer signs the messages a replica creates. The core calls it for every
// message it sends; an adversary can wrap it to sign conflicting messages.
// Ed25519 signatures are deterministic, so signing keeps the core
// deterministic.
type Signer interface {
	Sign(m Message)
}

// KeySigner signs with a private key under a testnet's domain.
type KeySigner struct {
	Domain crypto.Domain
	Key    crypto.PrivateKey
}

// Sign implements Signer.
func (s KeySigner) Sign(m Message) { Sign(s.Domain, s.Key, m) }

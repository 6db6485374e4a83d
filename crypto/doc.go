// Package crypto holds bftbed's keys, domain-separated Ed25519 signatures,
// single, batch and parallel verification, and SHA-256 digests.
//
// # Signatures
//
// Every signature covers a domain prefix made of the testnet (cluster) ID and
// a one-byte message tag, so that a signature made for one message type or
// one testnet never verifies as another. The signed bytes are
//
//	"bftbed/v1" || uvarint(len(clusterID)) || clusterID || tag || msg
//
// signed with plain Ed25519 (RFC 8032). Signing is deterministic: the same
// key, domain, tag and message always give the same signature, which the
// simulator relies on for reproducible runs.
//
// # Verification
//
// All verification (single, batch, parallel) uses curve25519-voi with one
// fixed set of rules: cofactored verification, canonical encodings of A, R
// and S (S < L), and rejection of small-order public keys. Cofactored single
// verification is what makes batch verification exact: a batch of valid
// signatures always passes, so single and batch verification never disagree
// on a signature.
//
// Expanded public keys (voi's precomputed tables, ~1.5 KiB each) are kept in
// a bounded, concurrency-safe cache: expanding a key costs about a fifth of
// a single verification, and bftbed verifies the same few replica keys over
// and over.
//
// # Key files
//
// Private keys are stored as a two-line text file readable only by its owner
// (mode 0600), see [WriteKeyFile]:
//
//	bftbed-ed25519-private-key
//	<64 hex digits: the 32-byte Ed25519 seed>
//
// Public keys use the same layout with the header bftbed-ed25519-public-key
// and the 32-byte public key, see [WritePublicKeyFile].
package crypto

package pbft

// Size limits enforced by Unmarshal. They bound what one message can make a
// replica allocate and verify, so that a faulty peer cannot exhaust memory or
// CPU with a single message. Each is far above what a correct replica sends
// with sane configurations (a correct C or Proof holds 2f+1 checkpoints, a
// correct V 2f+1 view-changes).
const (
	// MaxOpSize is the largest operation (Request.Op) or result
	// (Reply.Result), in bytes.
	MaxOpSize = 1 << 20

	// MaxBatchRequests is the largest number of requests in one
	// PRE-PREPARE's batch.
	MaxBatchRequests = 10000

	// MaxCheckpointProof is the largest number of checkpoints in a
	// VIEW-CHANGE's C or a STATE's Proof.
	MaxCheckpointProof = 1024

	// MaxPrepared is the largest number of prepared proofs in a
	// VIEW-CHANGE's P, and of pre-prepares in a NEW-VIEW's O. It bounds the
	// watermark window a replica can take part in.
	MaxPrepared = 4096

	// MaxPreparesPerProof is the largest number of prepares in one
	// PreparedProof.
	MaxPreparesPerProof = 1024

	// MaxViewChanges is the largest number of view-changes in a NEW-VIEW's V.
	MaxViewChanges = 1024

	// MaxSnapshotSize is the largest snapshot state transfer moves, in
	// bytes (a STATE's Size).
	MaxSnapshotSize = 64 << 20

	// MaxStateChunk is the largest chunk of a snapshot in one STATE.
	MaxStateChunk = 16 << 20

	// MaxCommitsPerProof is the largest number of commits in a COMMITTED.
	MaxCommitsPerProof = 1024

	// MaxMessageSize is the largest encoded message Unmarshal accepts, in
	// bytes. It caps the product of the per-list limits above, which alone
	// would allow absurd nestings (a NEW-VIEW of view-changes of full
	// batches).
	MaxMessageSize = 128 << 20
)

package pbft

import (
	"fmt"
	"time"
)

// Config holds a replica's protocol parameters. Every replica of a cluster
// must use the same N, CheckpointInterval and WatermarkWindow.
type Config struct {
	// ID is this replica's number, 0 <= ID < N.
	ID ReplicaID
	// N is the number of replicas, 3f+1 for the largest tolerated f.
	N int
	// CheckpointInterval is K: a checkpoint is taken after every K
	// sequence numbers.
	CheckpointInterval Seq
	// WatermarkWindow is L = H - h, a multiple of K (the paper uses 2K).
	WatermarkWindow Seq
	// MaxBatch is the largest number of requests in one PRE-PREPARE.
	MaxBatch int
	// MaxInFlight bounds the batches the primary has proposed but not yet
	// executed (pipelining inside the watermark window).
	MaxInFlight int
	// BatchTimeout is how long the primary waits to fill a batch.
	BatchTimeout time.Duration
	// StateChunkSize is the largest snapshot chunk sent in one STATE.
	StateChunkSize int
	// RequestTimeout is T, the view-change timer: how long a backup waits
	// for a request it knows about to execute before it suspects the
	// primary. It doubles with each successive view change.
	RequestTimeout time.Duration
}

// DefaultConfig returns the parameters used when a testnet does not set
// them, for replica id of n.
func DefaultConfig(id ReplicaID, n int) Config {
	return Config{
		ID:                 id,
		N:                  n,
		CheckpointInterval: 64,
		WatermarkWindow:    128,
		MaxBatch:           256,
		MaxInFlight:        8,
		BatchTimeout:       2 * time.Millisecond,
		StateChunkSize:     1 << 20,
		RequestTimeout:     1 * time.Second,
	}
}

// F returns the number of faulty replicas tolerated, floor((N-1)/3).
func (c *Config) F() int { return (c.N - 1) / 3 }

// Validate reports the first parameter that is out of range.
func (c *Config) Validate() error {
	switch {
	case c.N < 4 || c.N > MaxViewChanges:
		return fmt.Errorf("pbft: config: n = %d, need 4 (3f+1 with f >= 1) to %d", c.N, MaxViewChanges)
	case int(c.ID) >= c.N:
		return fmt.Errorf("pbft: config: replica id %d out of range for n = %d", c.ID, c.N)
	case c.CheckpointInterval == 0:
		return fmt.Errorf("pbft: config: checkpoint interval must be positive")
	case c.WatermarkWindow < c.CheckpointInterval || c.WatermarkWindow%c.CheckpointInterval != 0 || c.WatermarkWindow > MaxPrepared:
		return fmt.Errorf("pbft: config: watermark window %d must be a multiple of the checkpoint interval %d, at most %d", c.WatermarkWindow, c.CheckpointInterval, MaxPrepared)
	case c.MaxBatch < 1 || c.MaxBatch > MaxBatchRequests:
		return fmt.Errorf("pbft: config: max batch %d out of range 1..%d", c.MaxBatch, MaxBatchRequests)
	case c.StateChunkSize < 1 || c.StateChunkSize > MaxStateChunk:
		return fmt.Errorf("pbft: config: state chunk size %d out of range 1..%d", c.StateChunkSize, MaxStateChunk)
	case c.MaxInFlight < 1:
		return fmt.Errorf("pbft: config: max in flight must be positive")
	case c.BatchTimeout <= 0 || c.RequestTimeout <= 0:
		return fmt.Errorf("pbft: config: timeouts must be positive")
	}
	return nil
}

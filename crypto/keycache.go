package crypto

import (
	"sync"

	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// keyCacheGeneration bounds the expanded-key cache: it holds at most two
// generations of this many keys, about 3 MiB at ~1.5 KiB a key. That covers
// every replica of a testnet plus many active clients.
const keyCacheGeneration = 1024

// expandedKeys caches voi's expanded form of public keys. Expanding costs
// ~6 µs, a fifth of a single verification and 40% of a batched one, and
// bftbed verifies the same replica keys over and over.
var expandedKeys = newKeyCache(keyCacheGeneration)

// keyCache is a bounded, concurrency-safe cache of expanded public keys.
//
// It keeps two generations instead of a full LRU: hits in the old generation
// are promoted, and when the current one is full it becomes the old one and
// the previous old one is dropped. Keys in use survive; bursts of one-off
// keys (say, a flood of unknown clients) evict at most two generations.
type keyCache struct {
	mu       sync.Mutex
	cur, old map[PublicKey]*ed25519.ExpandedPublicKey
	size     int // entries per generation
}

func newKeyCache(size int) *keyCache {
	return &keyCache{cur: make(map[PublicKey]*ed25519.ExpandedPublicKey), size: size}
}

// get returns the expanded form of pub, or nil if pub is not a point on the
// curve. Expanded keys are read-only once built, so callers may share them.
// Keys that fail to expand are not cached: they are never worth keeping.
func (c *keyCache) get(pub PublicKey) *ed25519.ExpandedPublicKey {
	c.mu.Lock()
	ek, ok := c.cur[pub]
	if !ok {
		if ek, ok = c.old[pub]; ok {
			c.putLocked(pub, ek)
		}
	}
	c.mu.Unlock()
	if ok {
		return ek
	}

	// Expand outside the lock; a concurrent miss on the same key just
	// expands it twice.
	ek, err := ed25519.NewExpandedPublicKey(pub[:])
	if err != nil {
		return nil
	}
	c.mu.Lock()
	c.putLocked(pub, ek)
	c.mu.Unlock()
	return ek
}

func (c *keyCache) putLocked(pub PublicKey, ek *ed25519.ExpandedPublicKey) {
	if len(c.cur) >= c.size {
		c.old = c.cur
		c.cur = make(map[PublicKey]*ed25519.ExpandedPublicKey, c.size)
	}
	c.cur[pub] = ek
}

// len returns the number of cached keys, for tests.
func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

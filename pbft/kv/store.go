package kv

import (
	"bytes"
	"sync"

	"github.com/bftbed/bftbed/pbft"
)

// Store is the key-value state machine; it implements pbft.Application.
// It is safe for concurrent use, so tests may read it while a node executes.
type Store struct {
	mu sync.RWMutex
	m  map[string][]byte // values are owned by the store, never aliased
}

var _ pbft.Application = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{m: make(map[string][]byte)}
}

// Execute applies the operations of the batch in order and returns one
// encoded Result per operation. seq is not used: the state depends only on
// the order of operations, which the engine fixes. An operation that does not decode yields an error
// result and leaves the state unchanged.
func (s *Store) Execute(seq pbft.Seq, ops []pbft.Operation) [][]byte {
	out := make([][]byte, len(ops))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, o := range ops {
		var r Result
		if op, err := DecodeOp(o.Op); err != nil {
			r = Result{Err: err.Error()}
		} else {
			r = s.apply(op)
		}
		out[i] = EncodeResult(r)
	}
	return out
}

// apply runs one decoded operation; s.mu is held. Stored values are copied
// because op aliases the request buffer, which the engine may reuse. The
// returned Value may alias the state: Execute encodes it under the lock.
func (s *Store) apply(op Op) Result {
	old, found := s.m[string(op.Key)]
	switch op.Kind {
	case OpPut:
		s.m[string(op.Key)] = clone(op.Value)
		return Result{OK: true, Found: found}
	case OpGet:
		return Result{OK: true, Found: found, Value: old}
	case OpAppend:
		if len(old)+len(op.Value) > MaxValueSize {
			return Result{Err: "kv: append would exceed MaxValueSize"}
		}
		v := make([]byte, 0, len(old)+len(op.Value))
		v = append(append(v, old...), op.Value...)
		s.m[string(op.Key)] = v
		return Result{OK: true, Found: found, Value: v}
	case OpCAS:
		if !bytes.Equal(old, op.Expected) {
			return Result{Found: found, Value: old}
		}
		v := clone(op.Value)
		s.m[string(op.Key)] = v
		return Result{OK: true, Found: found, Value: v}
	}
	// DecodeOp accepts only the kinds above.
	return Result{Err: "kv: unknown op kind " + op.Kind.String()}
}

// Get returns key's value (a copy) and whether it is present.
func (s *Store) Get(key []byte) ([]byte, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	v, ok := s.m[string(key)]
	return clone(v), ok
}

// Len returns the number of keys.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// clone copies b, returning nil for an empty b so that empty values have one
// representation.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return bytes.Clone(b)
}

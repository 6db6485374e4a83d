package pbft

import (
	"bytes"
	"cmp"
	"slices"
)

// Exactly-once semantics for clients: the last reply sent to each client.

// reqKey names a request by client and timestamp.
type reqKey struct {
	client ClientID
	ts     uint64
}

func keyOf(req *Request) reqKey { return reqKey{req.Client, req.Timestamp} }

// lastReply is the last request executed for a client and its result.
type lastReply struct {
	ts     uint64
	result []byte
}

// clientTable is part of the replicated state: it is in every snapshot, so
// that replicas agree on which requests already executed.
type clientTable map[ClientID]lastReply

// executed reports whether a request with this timestamp (or a later one)
// already executed for the client.
func (t clientTable) executed(k reqKey) bool {
	last, ok := t[k.client]
	return ok && k.ts <= last.ts
}

// cachedReply returns the result of the client's last request if it has
// exactly timestamp ts.
func (t clientTable) cachedReply(k reqKey) ([]byte, bool) {
	last, ok := t[k.client]
	if !ok || last.ts != k.ts {
		return nil, false
	}
	return last.result, true
}

func (t clientTable) record(k reqKey, result []byte) {
	t[k.client] = lastReply{ts: k.ts, result: result}
}

// sortedReqKeys returns the keys of m ordered by client, then timestamp.
func sortedReqKeys[V any](m map[reqKey]V) []reqKey {
	keys := make([]reqKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if c := bytes.Compare(a.client[:], b.client[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.ts, b.ts)
	})
	return keys
}

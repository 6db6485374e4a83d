package p2p

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/bftbed/bftbed/pbft"
)

// Replies follow requests. A replica sends a client's REPLY over the
// connection the client's requests come in on: the client's own host, or a
// gateway carrying many clients (the load generator's). A gateway's replies
// then share one writer and one stream per replica, so the replies of one
// protocol step leave in one write instead of one per client.
//
// A route is learned from a request before its signature is checked (that
// is the Node's job, later), so routes are sticky: the first peer to bring
// a client's request keeps its replies for as long as it stays connected,
// and a later peer claiming the same client is ignored until then. Client
// IDs travel only on encrypted links, so the only peers that could claim
// another's are replicas, and a correct client's first request reaches
// every replica directly (pbft.Client broadcasts it), before any replica
// has seen it to copy. Routes cannot forge anything: replies are signed. A
// client with no route is reached over its own identity's connection, if
// it has one.

// maxRoutes bounds the route table: when full it is emptied, and clients
// fall back to their own connections until their next requests.
const maxRoutes = 1 << 16

// routeTable maps clients to the peer their latest request came from.
type routeTable struct {
	mu sync.RWMutex
	m  map[pbft.ClientID]peer.ID
}

// learn records that a request of client's came from pid. It replaces the
// client's route only if there is none, or if connected says its peer is
// gone.
func (t *routeTable) learn(client pbft.ClientID, pid peer.ID, connected func(peer.ID) bool) {
	t.mu.RLock()
	old, ok := t.m[client]
	t.mu.RUnlock()
	if old == pid || ok && connected(old) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if cur, ok := t.m[client]; ok && cur != old {
		return // another request moved it meanwhile
	}
	if t.m == nil || len(t.m) >= maxRoutes {
		t.m = make(map[pbft.ClientID]peer.ID)
	}
	t.m[client] = pid
}

// lookup returns the peer to send client's replies to, and false if no
// request of the client's has been seen.
func (t *routeTable) lookup(client pbft.ClientID) (peer.ID, bool) {
	t.mu.RLock()
	pid, ok := t.m[client]
	t.mu.RUnlock()
	return pid, ok
}

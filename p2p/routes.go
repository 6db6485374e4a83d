package p2p

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/bftbed/bftbed/pbft"
)

// Replies follow requests. A replica sends a client's REPLY over the
// connection its latest REQUEST came in on: the client's own host, or a
// gateway carrying many clients (the load generator's). A gateway's replies
// then share one writer and one stream per replica, so the replies of one
// protocol step leave in one write instead of one per client.
//
// A route is learned from a request before its signature is checked (that
// is the Node's job, later), so a peer that claims another client's
// requests can divert that client's replies until the client's next
// request. It cannot forge them (replies are signed), and a client that
// hears nothing retransmits, which routes its replies back. A client with
// no route is reached over its own identity's connection, if it has one.

// maxRoutes bounds the route table: when full it is emptied, and clients
// fall back to their own connections until their next requests.
const maxRoutes = 1 << 16

// routeTable maps clients to the peer their latest request came from.
type routeTable struct {
	mu sync.RWMutex
	m  map[pbft.ClientID]peer.ID
}

// learn records that client's latest request came from pid.
func (t *routeTable) learn(client pbft.ClientID, pid peer.ID) {
	t.mu.RLock()
	same := t.m[client] == pid
	t.mu.RUnlock()
	if same {
		return
	}
	t.mu.Lock()
	if t.m == nil || len(t.m) >= maxRoutes {
		t.m = make(map[pbft.ClientID]peer.ID)
	}
	t.m[client] = pid
	t.mu.Unlock()
}

// lookup returns the peer to send client's replies to, and false if no
// request of the client's has been seen.
func (t *routeTable) lookup(client pbft.ClientID) (peer.ID, bool) {
	t.mu.RLock()
	pid, ok := t.m[client]
	t.mu.RUnlock()
	return pid, ok
}

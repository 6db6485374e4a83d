package p2p

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// Peer scoring is deliberately simple: a peer that sends garbage (a frame
// that breaks the framing rules or the strict decoder, or a gossip message
// the validator rejects) is disconnected and refused for a while, twice as
// long on each offence. Honest software never sends garbage, so there is no
// threshold to tune, and no positive score to earn: one offence is proof of
// a fault (or of a version mismatch, which also needs an operator).
//
// The refusal is a libp2p ConnectionGater, so it holds for both directions
// and for every protocol (direct streams and GossipSub alike).

// maxBlockShift caps the doubling of the block duration: 64 times the base.
const maxBlockShift = 6

// maxScores bounds the scoreboard. Past it, expired entries are swept, so
// an attacker cycling identities cannot grow it without bound for long.
const maxScores = 4096

// score is one peer's record.
type score struct {
	offences int
	until    time.Time
}

// scoreboard is the block list, and the host's connmgr.ConnectionGater.
type scoreboard struct {
	base time.Duration

	mu sync.Mutex
	m  map[peer.ID]*score
}

var _ connmgr.ConnectionGater = (*scoreboard)(nil)

func newScoreboard(base time.Duration) *scoreboard {
	return &scoreboard{base: base, m: make(map[peer.ID]*score)}
}

// block records an offence of p and returns how long p is now refused.
func (s *scoreboard) block(p peer.ID) time.Duration {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= maxScores {
		for id, sc := range s.m {
			if now.After(sc.until) {
				delete(s.m, id)
			}
		}
	}
	sc := s.m[p]
	if sc == nil {
		sc = &score{}
		s.m[p] = sc
	}
	sc.offences++
	d := s.base << min(sc.offences-1, maxBlockShift)
	sc.until = now.Add(d)
	return d
}

// blocked reports whether p is refused now.
func (s *scoreboard) blocked(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	sc := s.m[p]
	return sc != nil && time.Now().Before(sc.until)
}

// blockedCount returns the number of peers refused now.
func (s *scoreboard) blockedCount() int {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, sc := range s.m {
		if now.Before(sc.until) {
			n++
		}
	}
	return n
}

// InterceptPeerDial refuses to dial a blocked peer.
func (s *scoreboard) InterceptPeerDial(p peer.ID) bool { return !s.blocked(p) }

// InterceptAddrDial allows every address: the decision is per peer.
func (s *scoreboard) InterceptAddrDial(peer.ID, ma.Multiaddr) bool { return true }

// InterceptAccept allows every inbound connection until the peer is known.
func (s *scoreboard) InterceptAccept(network.ConnMultiaddrs) bool { return true }

// InterceptSecured refuses a blocked peer once the handshake names it.
func (s *scoreboard) InterceptSecured(_ network.Direction, p peer.ID, _ network.ConnMultiaddrs) bool {
	return !s.blocked(p)
}

// InterceptUpgraded allows every connection that got this far.
func (s *scoreboard) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}

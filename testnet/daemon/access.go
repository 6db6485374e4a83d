package daemon

import (
	"github.com/bftbed/bftbed/p2p"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/store"
	"github.com/bftbed/bftbed/testnet"
)

// What a running Daemon exposes to its embedder and to tests, and the
// helpers that wire daemons and clients together.

// Done returns a channel closed when the node stops: after Stop, or on a
// fatal error (a failed disk write, a closed transport; see Err).
func (d *Daemon) Done() <-chan struct{} { return d.node.Done() }

// Err returns the fatal error that stopped the node, or nil.
func (d *Daemon) Err() error { return d.node.Err() }

// ID returns the replica's ID.
func (d *Daemon) ID() pbft.ReplicaID { return pbft.ReplicaID(d.cfg.ID) }

// Config returns the daemon's configuration. Do not modify it.
func (d *Daemon) Config() *testnet.NodeConfig { return d.cfg }

// Node returns the running replica.
func (d *Daemon) Node() *pbft.Node { return d.node }

// Host returns the replica's libp2p host.
func (d *Daemon) Host() *p2p.Host { return d.host }

// Store returns the replica's store.
func (d *Daemon) Store() *store.Store { return d.store.Store }

// HTTPAddr returns the address the HTTP endpoints listen on (with an
// OS-assigned port filled in), or "" if NodeConfig.HTTP is empty.
func (d *Daemon) HTTPAddr() string {
	if d.httpLn == nil {
		return ""
	}
	return d.httpLn.Addr().String()
}

// MovedAside returns where Start moved a corrupt data directory when
// Options.ResetState was set, or "" if it moved nothing.
func (d *Daemon) MovedAside() string { return d.movedAside }

// PeerInfo returns the replica as its peers and clients address it: its
// ID, public key and the multiaddrs its host listens on.
func (d *Daemon) PeerInfo() p2p.PeerInfo {
	return p2p.PeerInfo{ID: d.ID(), Key: d.cfg.Keys()[d.cfg.ID], Addrs: d.host.Addrs()}
}

// HostPeers returns the replicas of cfg as a p2p.HostConfig lists them,
// for a replica's host or a client's.
func HostPeers(cfg *testnet.NodeConfig) []p2p.PeerInfo {
	keys := cfg.Keys()
	peers := make([]p2p.PeerInfo, len(cfg.Peers))
	for i, p := range cfg.Peers {
		peers[i] = p2p.PeerInfo{ID: pbft.ReplicaID(p.ID), Key: keys[i], Addrs: p.Addrs}
	}
	return peers
}

// Connect tells every daemon where each of the others listens. Daemons
// whose configuration lists no peer addresses (their hosts listen on
// OS-assigned ports, as in examples/embed) call it once all have started.
func Connect(ds ...*Daemon) error {
	for _, a := range ds {
		for _, b := range ds {
			if a == b {
				continue
			}
			if err := a.host.SetPeerAddrs(b.ID(), b.host.Addrs()); err != nil {
				return err
			}
		}
	}
	return nil
}

package pbft

// The message log: for each sequence number inside the watermarks, the
// certificates being built for it, one per view.

// slot holds what the log knows about one sequence number.
type slot struct {
	// certs holds, per view, the pre-prepare and the votes received for
	// this sequence number in that view.
	certs map[View]*cert
	// prepared is the prepared certificate with the highest view this
	// replica has for this sequence number: what its VIEW-CHANGE reports in
	// P. It survives view changes until a higher view replaces it.
	prepared *PreparedProof
	// committed is set once this sequence number is committed-local.
	committed *cert
}

// cert gathers the messages for one (view, seq).
type cert struct {
	view       View
	prePrepare *PrePrepare
	prepares   map[ReplicaID]*Prepare
	commits    map[ReplicaID]*Commit
	// sentCommit is set once this replica multicast its COMMIT.
	sentCommit bool
}

func (r *Replica) slotAt(n Seq) *slot {
	s := r.log[n]
	if s == nil {
		s = &slot{certs: map[View]*cert{}}
		r.log[n] = s
	}
	return s
}

func (s *slot) certAt(v View) *cert {
	c := s.certs[v]
	if c == nil {
		c = &cert{view: v, prepares: map[ReplicaID]*Prepare{}, commits: map[ReplicaID]*Commit{}}
		s.certs[v] = c
	}
	return c
}

// digest returns the digest this cert is about: the pre-prepare's.
func (c *cert) digest() (Digest, bool) {
	if c.prePrepare == nil {
		return Digest{}, false
	}
	return c.prePrepare.Digest, true
}

// inWindow reports whether n lies inside the watermarks: h < n <= H.
func (r *Replica) inWindow(n Seq) bool {
	return n > r.stable.Seq && n <= r.stable.Seq+r.cfg.WatermarkWindow
}

// dropViewsBelow forgets certificates of views below v (their prepared
// certificates stay in slot.prepared).
func (r *Replica) dropViewsBelow(v View) {
	for _, s := range r.log {
		for w := range s.certs {
			if w < v {
				delete(s.certs, w)
			}
		}
	}
}

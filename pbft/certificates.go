package pbft

// The two predicates of the normal case, as the paper names them.

// prepared(m, v, n, i) is true when the log holds the pre-prepare for
// (v, n, d) and 2f prepares from distinct backups matching it. The primary of
// v does not send a PREPARE, so one from it never counts.
func (r *Replica) prepared(c *cert) bool {
	d, ok := c.digest()
	if !ok {
		return false
	}
	primary := primaryOf(c.view, r.cfg.N)
	matching := 0
	for id, p := range c.prepares {
		if id != primary && p.Digest == d {
			matching++
		}
	}
	return matching >= r.preparedQuorum()
}

// committedLocal(m, v, n, i) is true when prepared(m, v, n, i) holds and the
// log has 2f+1 commits from distinct replicas (its own included) matching
// (v, n, d).
func (r *Replica) committedLocal(c *cert) bool {
	if !r.prepared(c) {
		return false
	}
	d, _ := c.digest()
	matching := 0
	for _, cm := range c.commits {
		if cm.Digest == d {
			matching++
		}
	}
	return matching >= r.quorum()
}

// preparedProof extracts the prepared certificate of c for a VIEW-CHANGE's P,
// with the prepares sorted by replica so that the message is deterministic.
func (r *Replica) preparedProof(c *cert) *PreparedProof {
	d, _ := c.digest()
	primary := primaryOf(c.view, r.cfg.N)
	proof := &PreparedProof{PrePrepare: c.prePrepare}
	for _, id := range sortedKeys(c.prepares) {
		if p := c.prepares[id]; id != primary && p.Digest == d {
			proof.Prepares = append(proof.Prepares, p)
		}
	}
	return proof
}

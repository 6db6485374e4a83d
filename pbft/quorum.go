package pbft

// Quorum arithmetic for n = 3f+1 replicas, in one place.

// primaryOf returns the primary of view v: v mod n.
func primaryOf(v View, n int) ReplicaID { return ReplicaID(uint64(v) % uint64(n)) }

// quorum is 2f+1: the size of a certificate that intersects every other
// certificate in at least one correct replica.
func (r *Replica) quorum() int { return 2*r.f + 1 }

// weak is f+1: enough replicas that at least one is correct.
func (r *Replica) weak() int { return r.f + 1 }

// preparedQuorum is 2f: the prepares from distinct backups that, with the
// pre-prepare, make a request prepared.
func (r *Replica) preparedQuorum() int { return 2 * r.f }

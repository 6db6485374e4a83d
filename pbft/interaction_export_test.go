package pbft

// Hooks into the core's unexported state for the interaction tests. Those
// tests live in package pbft_test because they run the kv application, and
// pbft/kv imports pbft: an internal test importing kv would be an import
// cycle. Everything here is read-only or a pure function.

// InspectState is a snapshot of a replica's internals for the trace.
type InspectState struct {
	View      View
	Changing  bool
	LastExec  Seq
	Stable    StableCheckpoint
	Snapshot  []byte // the stable checkpoint's snapshot, nil if not held
	Window    Seq    // L: the high watermark is Stable.Seq + Window
	LogSlots  int
	Waiting   int // requests the replica waits for (view-change timer)
	TimersOn  []TimerKind
	Slots     []InspectSlot
	CPSenders map[Seq][]ReplicaID // checkpoints logged above the stable one
}

// InspectSlot is what the log holds for one sequence number.
type InspectSlot struct {
	Seq       Seq
	Prepared  *PreparedProof // highest-view prepared certificate, or nil
	Committed bool
	CommitVw  View
	Certs     []InspectCert
}

// InspectCert is one (view, seq) certificate being built.
type InspectCert struct {
	View       View
	PrePrepare *PrePrepare
	Prepares   map[ReplicaID]Digest
	Commits    map[ReplicaID]Digest
}

// Inspect returns r's internals.
func Inspect(r *Replica) InspectState {
	st := InspectState{
		View: r.view, Changing: r.changing, LastExec: r.lastExec,
		Stable: r.stable, Snapshot: r.stableSnapshot, Window: r.cfg.WatermarkWindow,
		LogSlots: len(r.log), Waiting: len(r.waiting), CPSenders: map[Seq][]ReplicaID{},
	}
	for k := range numTimers {
		if r.timerOn[k] {
			st.TimersOn = append(st.TimersOn, k)
		}
	}
	for _, n := range sortedKeys(r.log) {
		s := r.log[n]
		is := InspectSlot{Seq: n, Prepared: s.prepared, Committed: s.committed != nil}
		if s.committed != nil {
			is.CommitVw = s.committed.view
		}
		for _, v := range sortedKeys(s.certs) {
			c := s.certs[v]
			ic := InspectCert{View: v, PrePrepare: c.prePrepare, Prepares: map[ReplicaID]Digest{}, Commits: map[ReplicaID]Digest{}}
			for id, p := range c.prepares {
				ic.Prepares[id] = p.Digest
			}
			for id, cm := range c.commits {
				ic.Commits[id] = cm.Digest
			}
			is.Certs = append(is.Certs, ic)
		}
		st.Slots = append(st.Slots, is)
	}
	for _, n := range sortedKeys(r.checkpoints) {
		st.CPSenders[n] = sortedKeys(r.checkpoints[n])
	}
	return st
}

// ComputeOForTest is the new primary's min-s/max-s rule (computeO) for a
// cluster of cfg.N replicas: the O a NEW-VIEW for view v with V must carry.
func ComputeOForTest(cfg Config, v View, V []*ViewChange) []*PrePrepare {
	r := &Replica{cfg: cfg}
	O, _ := r.computeO(v, V)
	return O
}

// RewriteStateForTest decodes a checkpoint snapshot (application state and
// client table), replaces the application part with edit's result, and
// re-encodes it: a well-formed snapshot of a different state.
func RewriteStateForTest(snap []byte, edit func(app []byte) []byte) ([]byte, error) {
	app, clients, err := decodeState(snap)
	if err != nil {
		return nil, err
	}
	return encodeState(edit(app), clients), nil
}

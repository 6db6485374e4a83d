package pbft

import "fmt"

// Replica is the PBFT protocol core of one replica: a deterministic state
// machine. Feed it authenticated messages with Receive and timer expiries with
// Fire; each call returns a Ready that the runtime must carry out.
//
// Receive trusts that every signature in the message, nested ones included,
// was checked by Authenticate: signature checks are the runtime's job, so they
// can run in parallel and in batches off the core's goroutine. Everything else
// about a message (views, quorums, digests, watermarks) the core checks itself.
type Replica struct {
	cfg    Config
	f      int
	app    Application
	signer Signer

	view     View
	changing bool // a view change to view is in progress
	lastExec Seq
	stable   StableCheckpoint
	// stableSnapshot is the snapshot at stable.Seq, nil if this replica
	// learned the checkpoint is stable before it had the state.
	stableSnapshot []byte

	log map[Seq]*slot
	// nextSeq is the sequence number the primary assigns next.
	nextSeq Seq

	checkpoints map[Seq]map[ReplicaID]*Checkpoint
	snapshots   map[Seq][]byte

	clients clientTable
	// queue holds, at the primary, requests waiting for a batch; queued
	// marks them and the ones in flight so that none is proposed twice.
	queue    []*Request
	queued   map[reqKey]bool
	batchDue bool
	// batchSoon marks the batch timer armed for idleLinger.
	batchSoon bool
	// waiting holds the requests a backup knows of and has not executed:
	// while it is non-empty the view-change timer runs. arrivals lists
	// their keys in the order they came (with stale entries, skipped
	// lazily), and timed is the one the running timer waits for.
	waiting  map[reqKey]*Request
	arrivals []reqKey
	timed    reqKey

	// heldPP keeps PRE-PREPAREs that overtook their view's NEW-VIEW.
	heldPP map[View]map[Seq]*PrePrepare

	// vcs holds, per replica, the VIEW-CHANGE for the highest view it sent
	// at or above this replica's view: bounded memory however many views a
	// faulty replica claims.
	vcs map[ReplicaID]*ViewChange
	// newViewSent marks the view whose NEW-VIEW this replica sent.
	newViewSent View
	// lastNewView is the NEW-VIEW this replica sent as primary, resent to
	// a replica that asks for the view late.
	lastNewView *NewView
	// vcTimerView is the view for which the NEW-VIEW wait timer runs.
	vcTimerView View
	// attempts counts successive view changes without executing a new
	// request: the view-change timeout is RequestTimeout << attempts.
	attempts int

	timerGen [numTimers]uint64
	timerOn  [numTimers]bool

	// seen holds, per replica, the highest sequence number it sent a
	// message about: evidence that this replica fell behind.
	seen     map[ReplicaID]Seq
	transfer catchUp
	// recovered is set when the replica restarted from storage.
	recovered bool

	out Ready
}

// NewReplica returns the core for cfg, resuming from rec (nil for a fresh
// replica). The first Ready comes from Start.
func NewReplica(cfg Config, app Application, signer Signer, rec *Recovered) (*Replica, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Replica{
		cfg: cfg, f: cfg.F(), app: app, signer: signer,
		log:         map[Seq]*slot{},
		checkpoints: map[Seq]map[ReplicaID]*Checkpoint{},
		snapshots:   map[Seq][]byte{},
		clients:     clientTable{},
		queued:      map[reqKey]bool{},
		waiting:     map[reqKey]*Request{},
		vcs:         map[ReplicaID]*ViewChange{},
		seen:        map[ReplicaID]Seq{},
	}
	if rec != nil {
		r.recovered = true
		if err := r.restore(rec); err != nil {
			return nil, err
		}
	}
	r.nextSeq = max(r.nextSeq, r.lastExec+1, r.stable.Seq+1)
	return r, nil
}

// Status is a summary of the replica's state, for monitors.
type Status struct {
	ID           ReplicaID
	View         View
	ViewChanging bool
	Primary      ReplicaID
	LastExecuted Seq
	StableSeq    Seq
	StableState  Digest
}

// Status returns the replica's current status.
func (r *Replica) Status() Status {
	return Status{
		ID: r.cfg.ID, View: r.view, ViewChanging: r.changing,
		Primary: r.primary(), LastExecuted: r.lastExec,
		StableSeq: r.stable.Seq, StableState: r.stable.State,
	}
}

// Config returns the replica's configuration.
func (r *Replica) Config() Config { return r.cfg }

// Start returns the first Ready: what recovery produced and the timers a
// recovered replica needs.
func (r *Replica) Start() Ready {
	if r.changing {
		r.setTimer(TimerRequest, r.viewChangeTimeout())
	}
	if r.recovered {
		// A restarted replica does not know how far the others went.
		r.askAll()
	}
	return r.takeReady()
}

// Receive steps the core with an authenticated message.
func (r *Replica) Receive(m Message) Ready {
	switch m := m.(type) {
	case *Request:
		r.onRequest(m)
	case *PrePrepare:
		r.onPrePrepare(m)
	case *Prepare:
		r.onPrepare(m)
	case *Commit:
		r.onCommit(m)
	case *Checkpoint:
		r.onCheckpoint(m)
	case *ViewChange:
		r.onViewChange(m)
	case *NewView:
		r.onNewView(m)
	case *FetchState:
		r.onFetchState(m)
	case *State:
		r.onState(m)
	case *Committed:
		r.onCommitted(m)
	}
	return r.takeReady()
}

func (r *Replica) primary() ReplicaID { return primaryOf(r.view, r.cfg.N) }
func (r *Replica) isPrimary() bool    { return r.primary() == r.cfg.ID }

// takeReady hands the accumulated output to the caller.
func (r *Replica) takeReady() Ready {
	r.signReplies(r.out.Replies)
	rd := r.out
	r.out = Ready{}
	return rd
}

// persist adds a log message to this step's Persist.
func (r *Replica) persist(m Message) { r.out.Persist.Log = append(r.out.Persist.Log, m) }

// persistView records a change of view or view-change status.
func (r *Replica) persistView() {
	r.out.Persist.View = &ViewStatus{View: r.view, Changing: r.changing}
}

// sign signs m and records it as this step's own message.
func (r *Replica) sign(m Message) { r.signer.Sign(m) }

// broadcast signs nothing; it queues m for every other replica.
func (r *Replica) broadcast(m Message) {
	r.out.Messages = append(r.out.Messages, Envelope{Broadcast: true, Msg: m})
}

// sendTo queues m for one replica.
func (r *Replica) sendTo(to ReplicaID, m Message) {
	r.out.Messages = append(r.out.Messages, Envelope{To: to, Msg: m})
}

func (r *Replica) String() string {
	return fmt.Sprintf("replica %d view %d exec %d stable %d", r.cfg.ID, r.view, r.lastExec, r.stable.Seq)
}

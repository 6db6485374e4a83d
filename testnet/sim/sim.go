package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
)

// Simulator is one seeded run in progress.
type Simulator struct {
	opts    Options
	rng     *rand.Rand
	sched   scheduler
	domain  crypto.Domain
	keys    []crypto.PublicKey
	nodes   []*node
	clients []*client
	auth    authCache
	check   *checker
	stats   Stats
	// observe, if set, sees crashes and restarts as they happen (tests).
	observe func(observation)
}

// observation is a lifecycle event of a replica.
type observation struct {
	kind string // "crash" or "restart"
	node pbft.ReplicaID
}

// maxExecuted is the highest sequence number a running replica executed.
func (s *Simulator) maxExecuted() pbft.Seq {
	var top pbft.Seq
	for _, n := range s.nodes {
		if n.up() {
			top = max(top, n.core.Status().LastExecuted)
		}
	}
	return top
}

// Stats counts what happened in a run.
type Stats struct {
	Events, MessagesSent, MessagesLost, Crashes, Restarts int
	// MessagesCut counts messages a partition or isolation stopped;
	// Rejected counts frames receivers threw away as undecodable or
	// badly signed (forgeries, corruption).
	MessagesCut, Rejected int
	// NewViews lists, in order, when a replica first entered each view.
	NewViews []ViewEntry
	// StateChunks counts, per replica, the authentic STATE chunks it
	// received; CommitsAfterRestart the COMMITs it signed after its last
	// restart.
	StateChunks, CommitsAfterRestart map[pbft.ReplicaID]int
	OpsCompleted, OpsAfterFaults     int
	MaxView                          pbft.View
	MaxExecuted                      pbft.Seq
	VirtualTime                      time.Duration
	// DiskBytes is the largest storage footprint of a replica at the end
	// (Pebble runs only).
	DiskBytes uint64
	// Final holds each running replica's status at the end.
	Final []pbft.Status
}

// ViewEntry is the first time a replica entered View (out of a view
// change).
type ViewEntry struct {
	View pbft.View
	At   time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Options    Options
	Stats      Stats
	Violations []Violation
	// Progress is true when every client completed its operations after
	// the faults stopped, before the deadline.
	Progress bool
}

// Failed reports whether the run broke safety or made no progress.
func (r *Result) Failed() bool { return len(r.Violations) > 0 || !r.Progress }

// Summary is a one-line account of the run.
func (r *Result) Summary() string {
	return fmt.Sprintf("seed=%d n=%d: %d ops (%d after faults), max view %d, executed %d, %d crashes, %d msgs (%d lost), %d violations, progress=%v, virtual %v",
		r.Options.Seed, r.Options.N, r.Stats.OpsCompleted, r.Stats.OpsAfterFaults, r.Stats.MaxView,
		r.Stats.MaxExecuted, r.Stats.Crashes, r.Stats.MessagesSent, r.Stats.MessagesLost,
		len(r.Violations), r.Progress, r.Stats.VirtualTime.Round(time.Millisecond))
}

// ReplayCommand is the command that replays this run exactly.
func (r *Result) ReplayCommand() string {
	return fmt.Sprintf("go test ./testnet/sim/ -run TestReplay -v -args -sim.mix=%s -sim.seed=%d -sim.n=%d", r.Options.Mix, r.Options.Seed, r.Options.N)
}

// New prepares a run; Run runs it.
func New(opts Options) (*Simulator, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	s := &Simulator{
		opts:   opts,
		rng:    rand.New(rand.NewPCG(opts.Seed, 0x62667462656473)),
		domain: crypto.NewDomain(fmt.Sprintf("sim-%d", opts.Seed)),
		auth:   authCache{},
	}
	s.stats.StateChunks = map[pbft.ReplicaID]int{}
	s.stats.CommitsAfterRestart = map[pbft.ReplicaID]int{}
	seed := []byte(fmt.Sprintf("bftbed-sim-%d", opts.Seed))
	for i := 0; i < opts.N; i++ {
		key := crypto.DeriveKey(seed, fmt.Sprintf("replica/%d", i))
		s.keys = append(s.keys, key.Public())
		var d disk = &memDisk{}
		if opts.Pebble {
			d = &pebbleDisk{}
		}
		s.nodes = append(s.nodes, &node{sim: s, id: pbft.ReplicaID(i), key: key, disk: d})
	}
	s.check = newChecker(opts.N)
	for i := 0; i < opts.Clients; i++ {
		key := crypto.DeriveKey(seed, fmt.Sprintf("client/%d", i))
		s.clients = append(s.clients, &client{sim: s, index: i, core: pbft.NewClientCore(opts.N, s.domain, key, 0)})
	}
	return s, nil
}

// Run runs the simulation to its end and returns the checked result.
func Run(opts Options) (*Result, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	return s.Run(), nil
}

// Run runs the simulation to its end.
func (s *Simulator) Run() *Result {
	for _, n := range s.nodes {
		st, err := n.disk.open()
		if err != nil {
			s.check.fail(Violation{Kind: "storage", Detail: err.Error(), Replicas: []pbft.ReplicaID{n.id}})
			continue
		}
		n.storage = st
		n.start(nil)
	}
	for _, c := range s.clients {
		c.scheduleNext(s.int63n(int64(s.opts.Think) + 1))
	}
	s.scheduleCrashes()
	s.scheduleLifecycle()
	deadline := int64(s.opts.Deadline)
	for !s.allClientsDone() && s.sched.step(deadline) {
		s.stats.Events++
	}
	progress := s.allClientsDone()
	if o := s.opts.Observer; o != nil {
		for _, c := range s.clients {
			if req := c.core.Pending(); req != nil {
				o.Operation(Operation{Client: c.index, ClientID: c.core.ID(), Timestamp: req.Timestamp, Op: req.Op, Start: time.Duration(c.started)})
			}
		}
	}
	// Let replicas that are behind catch up before the final checks.
	settle := min(s.sched.now+int64(s.opts.Settle), deadline)
	for s.sched.step(settle) {
		s.stats.Events++
	}
	s.stats.VirtualTime = time.Duration(s.sched.now)
	for _, n := range s.nodes {
		if n.core != nil {
			st := n.core.Status()
			s.stats.Final = append(s.stats.Final, st)
			s.stats.MaxView = max(s.stats.MaxView, st.View)
			s.stats.MaxExecuted = max(s.stats.MaxExecuted, st.LastExecuted)
		}
	}
	s.check.finalState(s)
	s.check.caughtUp(s)
	for _, n := range s.nodes {
		s.stats.DiskBytes = max(s.stats.DiskBytes, n.disk.usage())
		n.disk.powerCut()
	}
	return &Result{Options: s.opts, Stats: s.stats, Violations: s.check.violations, Progress: progress}
}

func (s *Simulator) allClientsDone() bool {
	for _, c := range s.clients {
		if !c.finished {
			return false
		}
	}
	return true
}

// inFaultWindow reports whether faults are active now.
func (s *Simulator) inFaultWindow() bool {
	return s.sched.now >= int64(s.opts.FaultStart) && s.sched.now < int64(s.opts.FaultEnd)
}

func (s *Simulator) int63n(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return s.rng.Int64N(n)
}

func (s *Simulator) tracef(format string, args ...any) {
	if s.opts.Trace != nil {
		s.opts.Trace(fmt.Sprintf("%10.3fms ", float64(s.sched.now)/1e6) + fmt.Sprintf(format, args...))
	}
}

// replicaKey returns the public key of replica id, for Authenticate.
func (s *Simulator) replicaKey(id pbft.ReplicaID) (crypto.PublicKey, bool) {
	if int(id) >= len(s.keys) {
		return crypto.PublicKey{}, false
	}
	return s.keys[id], true
}

// authCache remembers the verdict of Authenticate per distinct encoding:
// every replica checks every signature, but a broadcast's n-1 copies are the
// same bytes, so the simulator verifies them once. The verdict is a pure
// function of the bytes, the domain and the replica keys.
type authCache map[crypto.Digest]error

// decode turns bytes from the network into an authenticated message.
func (s *Simulator) decode(data []byte) (pbft.Message, error) {
	m, err := pbft.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	h := crypto.Hash(data)
	if err, ok := s.auth[h]; ok {
		return m, err
	}
	err = pbft.Authenticate(s.domain, s.replicaKey, m)
	s.auth[h] = err
	return m, err
}

// noteView records the first time any replica entered view v.
func (s *Simulator) noteView(v pbft.View) {
	if k := len(s.stats.NewViews); k > 0 && s.stats.NewViews[k-1].View >= v {
		return
	}
	s.stats.NewViews = append(s.stats.NewViews, ViewEntry{View: v, At: time.Duration(s.sched.now)})
}

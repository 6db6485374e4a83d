package sim

import (
	"fmt"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// client is the endpoint number of clients in send: link rules only cut
// links between replicas.
const clientEnd = -1

// send puts bytes from endpoint from to endpoint to (a replica's number, or
// clientEnd) on the simulated network, towards deliver, applying the link
// rules and the network model in force now, plus extra delay.
func (s *Simulator) send(from, to int, deliver func([]byte), data []byte, extra time.Duration) {
	net := s.opts.Net
	if s.inFaultWindow() {
		net = s.opts.FaultNet
	}
	s.stats.MessagesSent++
	if from >= 0 && to >= 0 && !s.linkAllowed(pbft.ReplicaID(from), pbft.ReplicaID(to)) {
		s.stats.MessagesCut++
		return
	}
	if net.Loss > 0 && s.rng.Float64() < net.Loss {
		s.stats.MessagesLost++
		return
	}
	copies := 1
	if net.Duplicate > 0 && s.rng.Float64() < net.Duplicate {
		copies = 2
	}
	for range copies {
		delay := int64(net.MinDelay) + s.int63n(int64(net.MaxDelay-net.MinDelay)+1) + int64(extra)
		s.sched.after(delay, func() { deliver(data) })
	}
}

// describe renders a message for traces.
func describe(m pbft.Message) string {
	switch m := m.(type) {
	case *pbft.Request:
		return fmt.Sprintf("REQUEST c=%s t=%d", m.Client, m.Timestamp)
	case *pbft.PrePrepare:
		return fmt.Sprintf("PRE-PREPARE v=%d n=%d d=%s from=%d batch=%d", m.View, m.Seq, m.Digest, m.Replica, len(m.Batch))
	case *pbft.Prepare:
		return fmt.Sprintf("PREPARE v=%d n=%d d=%s from=%d", m.View, m.Seq, m.Digest, m.Replica)
	case *pbft.Commit:
		return fmt.Sprintf("COMMIT v=%d n=%d d=%s from=%d", m.View, m.Seq, m.Digest, m.Replica)
	case *pbft.Reply:
		return fmt.Sprintf("REPLY v=%d t=%d from=%d", m.View, m.Timestamp, m.Replica)
	case *pbft.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n=%d d=%s from=%d", m.Seq, m.State, m.Replica)
	case *pbft.ViewChange:
		return fmt.Sprintf("VIEW-CHANGE v=%d stable=%d |P|=%d from=%d", m.View, m.Stable, len(m.P), m.Replica)
	case *pbft.NewView:
		return fmt.Sprintf("NEW-VIEW v=%d |V|=%d |O|=%d from=%d", m.View, len(m.V), len(m.O), m.Replica)
	case *pbft.FetchState:
		return fmt.Sprintf("FETCH-STATE n=%d offset=%d from=%d", m.Seq, m.Offset, m.Replica)
	case *pbft.State:
		return fmt.Sprintf("STATE n=%d chunk=%d+%d/%d from=%d", m.Seq, m.Offset, len(m.Chunk), m.Size, m.Replica)
	case *pbft.Committed:
		return fmt.Sprintf("COMMITTED v=%d n=%d commits=%d from=%d", m.PrePrepare.View, m.PrePrepare.Seq, len(m.Commits), m.Replica)
	}
	return m.Type().String()
}

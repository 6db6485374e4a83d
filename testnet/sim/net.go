package sim

import (
	"fmt"

	"github.com/bftbed/bftbed/pbft"
)

// send puts bytes on the simulated network towards deliver, applying the
// network model in force now.
func (s *Simulator) send(deliver func([]byte), data []byte) {
	net := s.opts.Net
	if s.inFaultWindow() {
		net = s.opts.FaultNet
	}
	s.stats.MessagesSent++
	if net.Loss > 0 && s.rng.Float64() < net.Loss {
		s.stats.MessagesLost++
		return
	}
	copies := 1
	if net.Duplicate > 0 && s.rng.Float64() < net.Duplicate {
		copies = 2
	}
	for range copies {
		delay := int64(net.MinDelay) + s.int63n(int64(net.MaxDelay-net.MinDelay)+1)
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
		return fmt.Sprintf("FETCH-STATE n=%d from=%d", m.Seq, m.Replica)
	case *pbft.State:
		return fmt.Sprintf("STATE n=%d size=%d from=%d", m.Seq, len(m.Snapshot), m.Replica)
	}
	return m.Type().String()
}

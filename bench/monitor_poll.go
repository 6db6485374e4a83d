package bench

import (
	"context"
	"time"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/testnet/daemon"
)

// commitPages bounds the /commits pages read in one poll: a monitor that
// fell further behind catches up over the next polls instead of stalling
// this one.
const commitPages = 4

// poll reads one node once and records what it learned.
//
// It takes no checkpoint state from /status: stable_state is the state
// 2f+1 replicas certified, which a diverging replica adopts by state
// transfer, not the one it computed itself, and feeding it to the state
// check would hide the very divergence that check looks for. A node's own
// checkpoints come from its store after the run.
func (m *monitor) poll(ctx context.Context, ns *nodeState) {
	nd := &m.desc.Nodes[ns.id]
	pid, running := m.desc.Running(ns.id)
	var proc procSample
	if running {
		proc = readProc(pid)
	}
	st, err := m.http.status(ctx, nd)
	if err != nil {
		m.recordDown(ns, pid, running, proc)
		return
	}
	commits := m.fetchCommits(ctx, ns)
	traffic, terr := m.http.traffic(ctx, nd)
	at := m.since()

	// Loud lines are printed after the lock is released: a terminal
	// display may hold a write until its next refresh.
	var loud []string
	defer func() {
		for _, line := range loud {
			m.logf("%s", line)
		}
	}()
	m.mu.Lock()
	defer m.mu.Unlock()
	if running {
		m.pids[pid] = true
	}
	m.rec.Status(at, pbft.Status{
		ID: pbft.ReplicaID(ns.id), View: pbft.View(st.View), ViewChanging: st.ViewChanging,
		Primary: pbft.ReplicaID(st.Primary), LastExecuted: pbft.Seq(st.LastExecuted), StableSeq: pbft.Seq(st.StableSeq),
	})
	// The first poll, at t0, finds what executed before: the load's
	// warm-up. It belongs in the logs, not in the run's throughput.
	before := !ns.polled
	c := m.slot(ns.window(at), ns.id)
	loud = m.recordCommits(ns, at, c, commits, before)
	ns.status = st
	ns.history = appendRate(ns.history, ratePoint{at, ns.committed})
	if terr == nil {
		m.recordTraffic(ns, at, c, traffic)
	}
	m.recordProc(ns, pid, running, c, proc)
}

// fetchCommits reads what the node executed since the last poll, a few
// pages at most.
func (m *monitor) fetchCommits(ctx context.Context, ns *nodeState) []daemon.Commit {
	var commits []daemon.Commit
	for page := 0; page < commitPages; page++ {
		cs, err := m.http.commits(ctx, &m.desc.Nodes[ns.id], ns.after)
		if err != nil {
			break
		}
		commits = append(commits, cs...)
		if len(cs) > 0 {
			ns.after = cs[len(cs)-1].Seq
		}
		if len(cs) < commitsLimit {
			break
		}
	}
	return commits
}

// recordCommits feeds new commits to the Recorder (the log), to the
// interval's count (unless they came before t0), and to the agreement
// monitor. It returns the monitor's loud lines about conflicts.
func (m *monitor) recordCommits(ns *nodeState, at time.Duration, c *extraCounts, commits []daemon.Commit, before bool) (loud []string) {
	node := pbft.ReplicaID(ns.id)
	for _, cm := range commits {
		d, ok := parseDigest(cm.Digest)
		if !ok {
			continue
		}
		b := pbft.CommittedBatch{Seq: pbft.Seq(cm.Seq), View: pbft.View(cm.View), Digest: d}
		for _, op := range cm.Ops {
			if key, err := crypto.ParsePublicKey(op.Client); err == nil {
				if op.Skipped {
					b.Skipped = append(b.Skipped, len(b.Batch))
				}
				b.Batch = append(b.Batch, &pbft.Request{Client: key, Timestamp: op.TS})
			}
		}
		m.rec.Commit(at, node, b)
		if cm.Requests > 0 {
			if m.withRequests[node] == nil {
				m.withRequests[node] = map[pbft.Seq]bool{}
			}
			m.withRequests[node][pbft.Seq(cm.Seq)] = true
		}
		if !before {
			c.committed += uint64(cm.Requests)
			ns.committed += uint64(cm.Requests)
		}
		if msg := m.agree.observe(at, node, pbft.Seq(cm.Seq), Digest(d)); msg != "" {
			loud = append(loud, msg)
		}
	}
	return loud
}

// window returns the middle of the span a poll at time at covers (since
// the node's previous poll), and remembers at. What a poll counts (commits,
// traffic, CPU) happened somewhere in that span; filing it under the
// interval of its middle, rather than of the poll, keeps the time series
// from lagging one interval behind what happened.
func (ns *nodeState) window(at time.Duration) time.Duration {
	mid := at
	if ns.polled {
		mid = ns.lastPoll + (at-ns.lastPoll)/2
	}
	ns.polled, ns.lastPoll = true, at
	return mid
}

// recordDown notes a node that did not answer: no sample, but its process
// (if any, say a paused one) is still measured.
func (m *monitor) recordDown(ns *nodeState, pid int, running bool, proc procSample) {
	at := m.since()
	m.mu.Lock()
	defer m.mu.Unlock()
	ns.status = nil
	if running {
		m.pids[pid] = true
	}
	ns.history = appendRate(ns.history, ratePoint{at, ns.committed})
	m.recordProc(ns, pid, running, m.slot(ns.window(at), ns.id), proc)
}

// recordTraffic turns a /metrics reading into the interval's traffic and
// heartbeats: a peer whose frames to this node went up since the last
// reading was heard from. A counter that went down means the node
// restarted, and its value is all new.
func (m *monitor) recordTraffic(ns *nodeState, at time.Duration, c *extraCounts, cur *trafficCounters) {
	prev := ns.traffic
	ns.traffic = cur
	if prev == nil {
		return // the first reading is the baseline
	}
	c.msgsSent += delta(prev.framesOut, cur.framesOut)
	c.bytesSent += delta(prev.bytesOut, cur.bytesOut)
	c.msgsRecv += delta(prev.framesIn, cur.framesIn)
	c.bytesRecv += delta(prev.bytesIn, cur.bytesIn)
	for peer, n := range cur.peerFramesIn {
		if peer != ns.id && delta(prev.peerFramesIn[peer], n) > 0 {
			m.rec.Received(at, ns.id, peer, 0)
		}
	}
}

// recordProc adds the CPU time the node's process used since the last poll
// and its resident set. A new pid (a restarted node) starts from zero.
func (m *monitor) recordProc(ns *nodeState, pid int, running bool, c *extraCounts, p procSample) {
	if !running || !p.ok {
		return
	}
	c.rssBytes = max(c.rssBytes, p.rssBytes)
	switch {
	case ns.pid == 0:
		// The first sight of the node: what it used to start up is
		// before the run.
		ns.pid, ns.cpuTicks = pid, p.cpuTicks
		return
	case pid != ns.pid:
		// Restarted during the run: its start-up is part of the run.
		ns.pid, ns.cpuTicks = pid, 0
	}
	c.cpuSeconds += float64(delta(ns.cpuTicks, p.cpuTicks)) / clockTicks
	ns.cpuTicks = p.cpuTicks
}

// delta is the increase of a counter from prev to cur; a counter that went
// down was reset (its process restarted), so all of cur is new.
func delta(prev, cur uint64) uint64 {
	if cur < prev {
		return cur
	}
	return cur - prev
}

// appendRate keeps the last few seconds of a node's committed totals.
func appendRate(h []ratePoint, p ratePoint) []ratePoint {
	h = append(h, p)
	for len(h) > 2 && p.at-h[1].at >= rateWindow {
		h = h[1:]
	}
	return h
}

// parseDigest decodes a hex digest as the endpoints write them.
func parseDigest(s string) (pbft.Digest, bool) {
	var d Digest
	if err := d.UnmarshalText([]byte(s)); err != nil {
		return pbft.Digest{}, false
	}
	return pbft.Digest(d), true
}

package sim

import (
	"fmt"
	"time"

	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// client is a closed-loop client: it submits an operation, waits for f+1
// matching replies (retransmitting to every replica on timeout), thinks,
// and submits the next. Most operations append a unique token to the
// client's own key, which lets the checker prove exactly-once execution.
type client struct {
	sim      *Simulator
	index    int
	core     *pbft.ClientCore
	timerGen int
	// appended holds the tokens whose appends completed, in order.
	appended   []string
	pendingTok string
	started    int64
	finished   bool
	afterFault int
}

func (c *client) key() []byte { return []byte(fmt.Sprintf("client-%d", c.index)) }

func (c *client) scheduleNext(after int64) {
	c.sim.sched.after(after, c.submit)
}

func (c *client) submit() {
	var op []byte
	c.pendingTok = ""
	if w := c.sim.opts.Workload; w != nil {
		op = w(c.sim.rng, c.index)
	} else if c.sim.rng.IntN(5) == 0 {
		op = kv.EncodePut([]byte("shared"), []byte(fmt.Sprintf("c%d", c.index)))
	} else {
		c.pendingTok = fmt.Sprintf("%d;", len(c.appended))
		op = kv.EncodeAppend(c.key(), []byte(c.pendingTok))
	}
	req := c.core.Submit(op)
	c.started = c.sim.sched.now
	c.sim.tracef("c%d submit t=%d to n%d", c.index, req.Timestamp, c.core.Primary())
	c.sim.toReplica(clientEnd, c.core.Primary(), pbft.Marshal(req), 0)
	c.armTimer()
}

func (c *client) armTimer() {
	c.timerGen++
	gen := c.timerGen
	c.sim.sched.after(int64(c.sim.opts.ClientTimeout), func() {
		if gen != c.timerGen || c.core.Pending() == nil {
			return
		}
		data := pbft.Marshal(c.core.Retransmit())
		c.sim.tracef("c%d retransmit t=%d", c.index, c.core.Pending().Timestamp)
		for _, n := range c.sim.nodes {
			c.sim.toReplica(clientEnd, n.id, data, 0)
		}
		c.armTimer()
	})
}

func (c *client) deliver(data []byte) {
	m, err := c.sim.decode(data)
	if err != nil {
		return
	}
	rep, ok := m.(*pbft.Reply)
	if !ok {
		return
	}
	req := c.core.Pending()
	result, done := c.core.OnReply(rep)
	if !done {
		return
	}
	if o := c.sim.opts.Observer; o != nil {
		o.Operation(Operation{Client: c.index, ClientID: c.core.ID(), Timestamp: req.Timestamp, Op: req.Op, Result: result,
			Start: time.Duration(c.started), End: time.Duration(c.sim.sched.now), Done: true})
	}
	c.timerGen++
	c.sim.stats.OpsCompleted++
	if c.pendingTok != "" {
		c.appended = append(c.appended, c.pendingTok)
	}
	if c.sim.sched.now >= int64(c.sim.opts.FaultEnd) {
		c.afterFault++
		c.sim.stats.OpsAfterFaults++
		if c.afterFault >= c.sim.opts.OpsAfterFaults && c.sim.sched.now >= int64(c.sim.opts.LoadUntil) {
			c.finished = true
			return
		}
	}
	c.scheduleNext(c.sim.int63n(int64(c.sim.opts.Think) + 1))
}

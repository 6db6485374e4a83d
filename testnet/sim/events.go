package sim

import "container/heap"

// event is something that happens at a virtual time. Events at the same
// time run in the order they were scheduled, which keeps runs reproducible.
type event struct {
	at  int64 // virtual nanoseconds
	seq uint64
	run func()
}

type eventQueue []*event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	return e
}

// scheduler runs events in virtual-time order.
type scheduler struct {
	now   int64
	next  uint64
	queue eventQueue
}

func (s *scheduler) after(d int64, run func()) {
	s.next++
	heap.Push(&s.queue, &event{at: s.now + max(d, 0), seq: s.next, run: run})
}

// at schedules run at absolute virtual time t (or now, if t has passed).
func (s *scheduler) at(t int64, run func()) { s.after(t-s.now, run) }

// step runs the next event; false when there is none or it lies past limit.
func (s *scheduler) step(limit int64) bool {
	if len(s.queue) == 0 || s.queue[0].at > limit {
		return false
	}
	e := heap.Pop(&s.queue).(*event)
	s.now = e.at
	e.run()
	return true
}

package bench

import (
	"fmt"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

// agreementMonitor compares, as commits arrive, what correct replicas
// executed at each sequence number: PBFT's safety property, checked live
// so that a fork is announced when it happens (and with the time it was
// seen), not only in the report. The Agreement checker repeats the check
// on the whole record after the run.
type agreementMonitor struct {
	byz   map[pbft.ReplicaID]bool
	first map[pbft.Seq]agreedCommit
	// compared counts the sequence numbers executed by two or more correct
	// replicas so far.
	compared int
	// violations are the conflicts found, one line each (the first
	// maxDetails), and count all of them.
	violations []string
	count      int
}

// agreedCommit is the first commit of a correct replica seen at a seq.
type agreedCommit struct {
	digest Digest
	node   pbft.ReplicaID
	// shared is set once a second correct replica executed the seq.
	shared bool
}

func newAgreementMonitor(byz map[pbft.ReplicaID]bool) *agreementMonitor {
	return &agreementMonitor{byz: byz, first: map[pbft.Seq]agreedCommit{}}
}

// observe takes node's commit of digest at seq, seen at time at (negative:
// after the run, from the node's store). It returns a loud line when the
// commit contradicts another correct replica's, "" otherwise. Byzantine
// replicas are not held to their word.
func (a *agreementMonitor) observe(at time.Duration, node pbft.ReplicaID, seq pbft.Seq, digest Digest) string {
	if a.byz[node] {
		return ""
	}
	prev, ok := a.first[seq]
	if !ok {
		a.first[seq] = agreedCommit{digest: digest, node: node}
		return ""
	}
	if prev.node == node {
		return "" // seen again (a restart, or the store after the run)
	}
	if !prev.shared {
		prev.shared = true
		a.first[seq] = prev
		a.compared++
	}
	if prev.digest == digest {
		return ""
	}
	when := "after the run, in the stores"
	if at >= 0 {
		when = "at " + fmtDur(at)
	}
	detail := fmt.Sprintf("seq %d: replica %d committed %v, replica %d committed %v", seq, prev.node, prev.digest, node, digest)
	a.count++
	if len(a.violations) < maxDetails {
		a.violations = append(a.violations, detail)
	}
	switch {
	case a.count <= loudViolations:
		return fmt.Sprintf("!!! AGREEMENT VIOLATED %s: %s", when, detail)
	case a.count == loudViolations+1:
		return fmt.Sprintf("!!! AGREEMENT VIOLATED %s again, and so on: further conflicts are counted on the status line; the report lists them", when)
	}
	return ""
}

// loudViolations is how many conflicts get a line of their own: a fork
// usually spans many sequence numbers, and the first few say it all.
const loudViolations = 10

// state is the agreement monitor's state in a few words, for the live
// progress line.
func (a *agreementMonitor) state() string {
	if a.count > 0 {
		return fmt.Sprintf("AGREEMENT VIOLATED (%d conflicts; first: %s)", a.count, a.violations[0])
	}
	return fmt.Sprintf("agreement ok (%d seqs compared)", a.compared)
}

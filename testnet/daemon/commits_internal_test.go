package daemon

import (
	"fmt"
	"testing"

	"github.com/bftbed/bftbed/pbft"
)

func TestCommitLog(t *testing.T) {
	l := newCommitLog(4)
	if got := l.after(0, 0); len(got) != 0 {
		t.Fatalf("empty log: %v", got)
	}
	seqs := func(cs []Commit) string {
		s := ""
		for _, c := range cs {
			s += fmt.Sprintf("%d,", c.Seq)
		}
		return s
	}
	for _, seq := range []pbft.Seq{1, 2, 3} {
		l.add(pbft.CommittedBatch{Seq: seq, View: 1, Batch: make([]*pbft.Request, int(seq))})
	}
	if got := seqs(l.after(1, 0)); got != "2,3," {
		t.Errorf("after 1: %s", got)
	}
	// A state transfer skips ahead; the oldest entries fall out.
	for _, seq := range []pbft.Seq{9, 10, 11} {
		l.add(pbft.CommittedBatch{Seq: seq, Digest: pbft.Digest{byte(seq)}})
	}
	for _, tc := range []struct {
		after uint64
		limit int
		want  string
	}{
		{0, 0, "3,9,10,11,"}, {3, 0, "9,10,11,"}, {5, 0, "9,10,11,"}, {9, 1, "10,"}, {11, 0, ""}, {0, 2, "3,9,"},
	} {
		if got := seqs(l.after(tc.after, tc.limit)); got != tc.want {
			t.Errorf("after %d limit %d: %s, want %s", tc.after, tc.limit, got, tc.want)
		}
	}
	c := l.after(10, 0)[0]
	if c.Digest != (pbft.Digest{11}).Hex() || c.View != 0 || c.Requests != 0 {
		t.Errorf("entry %+v", c)
	}
	if c := l.after(2, 1)[0]; c.Requests != 3 || c.View != 1 {
		t.Errorf("entry %+v", c)
	}
}

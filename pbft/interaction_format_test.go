package pbft_test

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/bftbed/bftbed/crypto"
	"github.com/bftbed/bftbed/pbft"
	"github.com/bftbed/bftbed/pbft/kv"
)

// Compact, deterministic descriptions of messages for the interaction
// tests. Digests are shortened to 6 hex digits; the null request's digest
// prints as "null".

func short(d pbft.Digest) string {
	if d == pbft.NullDigest {
		return "null"
	}
	return hex.EncodeToString(d[:3])
}

func (e *ienv) describe(m pbft.Message) string {
	switch m := m.(type) {
	case *pbft.Request:
		return "REQUEST " + e.requestString(m)
	case *pbft.PrePrepare:
		s := fmt.Sprintf("PRE-PREPARE v=%d n=%d d=%s", m.View, m.Seq, short(m.Digest))
		if m.Batch != nil {
			s += " " + e.batchString(m.Batch)
		}
		return s
	case *pbft.Prepare:
		return fmt.Sprintf("PREPARE v=%d n=%d d=%s", m.View, m.Seq, short(m.Digest))
	case *pbft.Commit:
		return fmt.Sprintf("COMMIT v=%d n=%d d=%s", m.View, m.Seq, short(m.Digest))
	case *pbft.Reply:
		return fmt.Sprintf("REPLY v=%d t=%d %s", m.View, m.Timestamp, resultString(m.Result))
	case *pbft.Checkpoint:
		return fmt.Sprintf("CHECKPOINT n=%d s=%s", m.Seq, short(m.State))
	case *pbft.ViewChange:
		return "VIEW-CHANGE " + vcString(m)
	case *pbft.NewView:
		var v, o []string
		for _, vc := range m.V {
			v = append(v, fmt.Sprint(vc.Replica))
		}
		for _, pp := range m.O {
			o = append(o, fmt.Sprintf("n%d:%s", pp.Seq, short(pp.Digest)))
		}
		return fmt.Sprintf("NEW-VIEW v=%d V=[%s] O=[%s]", m.View, strings.Join(v, ","), strings.Join(o, " "))
	case *pbft.FetchState:
		return fmt.Sprintf("FETCH-STATE n=%d offset=%d", m.Seq, m.Offset)
	case *pbft.State:
		return fmt.Sprintf("STATE n=%d proof=%s chunk=%d+%d/%d %s", m.Seq, cpSigners(m.Proof), m.Offset, len(m.Chunk), m.Size, short(crypto.Hash(m.Chunk)))
	case *pbft.Committed:
		var ids []string
		for _, c := range m.Commits {
			ids = append(ids, fmt.Sprint(c.Replica))
		}
		return fmt.Sprintf("COMMITTED v=%d n=%d d=%s commits=[%s]", m.PrePrepare.View, m.PrePrepare.Seq, short(m.PrePrepare.Digest), strings.Join(ids, ","))
	}
	return m.Type().String()
}

// vcString is <v, h, C, P>: P lists each prepared certificate as
// n<seq>@v<view>:<digest>.
func vcString(vc *pbft.ViewChange) string {
	var p []string
	for _, proof := range vc.P {
		pp := proof.PrePrepare
		p = append(p, fmt.Sprintf("n%d@v%d:%s", pp.Seq, pp.View, short(pp.Digest)))
	}
	return fmt.Sprintf("v=%d h=%d C=%s P=[%s]", vc.View, vc.Stable, cpSigners(vc.C), strings.Join(p, " "))
}

func cpSigners(cps []*pbft.Checkpoint) string {
	var ids []string
	for _, cp := range cps {
		ids = append(ids, fmt.Sprint(cp.Replica))
	}
	return "[" + strings.Join(ids, ",") + "]"
}

func (e *ienv) requestString(q *pbft.Request) string {
	return fmt.Sprintf("%s/t%d %s", e.clientName(q.Client), q.Timestamp, opString(q.Op))
}

func (e *ienv) batchString(batch []*pbft.Request) string {
	var parts []string
	for _, q := range batch {
		parts = append(parts, e.requestString(q))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

// opString prints a kv operation in the scripts' syntax: put:x=1,
// append:x=a, get:x.
func opString(b []byte) string {
	op, err := kv.DecodeOp(b)
	if err != nil {
		return fmt.Sprintf("bad-op(%x)", b)
	}
	switch op.Kind {
	case kv.OpPut:
		return fmt.Sprintf("put:%s=%s", op.Key, op.Value)
	case kv.OpAppend:
		return fmt.Sprintf("append:%s=%s", op.Key, op.Value)
	case kv.OpGet:
		return fmt.Sprintf("get:%s", op.Key)
	}
	return op.Kind.String()
}

// parseOp is opString's inverse.
func parseOp(s string) ([]byte, error) {
	kind, rest, _ := strings.Cut(s, ":")
	key, val, _ := strings.Cut(rest, "=")
	switch kind {
	case "put":
		return kv.EncodePut([]byte(key), []byte(val)), nil
	case "append":
		return kv.EncodeAppend([]byte(key), []byte(val)), nil
	case "get":
		return kv.EncodeGet([]byte(key)), nil
	}
	return nil, fmt.Errorf("unknown op %q (want put:k=v, append:k=v or get:k)", s)
}

// resultString prints a kv result: ok/found flags and the value.
func resultString(b []byte) string {
	r, err := kv.DecodeResult(b)
	if err != nil {
		return fmt.Sprintf("bad-result(%x)", b)
	}
	if r.Err != "" {
		return "error(" + r.Err + ")"
	}
	var parts []string
	if r.OK {
		parts = append(parts, "ok")
	}
	if r.Found {
		parts = append(parts, "found")
	}
	if r.Value != nil {
		parts = append(parts, fmt.Sprintf("%q", r.Value))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

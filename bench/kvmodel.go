package bench

import (
	"fmt"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"

	"github.com/bftbed/bftbed/pbft/kv"
)

// kvState is the sequential state of one key (the model is partitioned by
// key): its value and whether it exists, since Found tells an absent key
// from an empty value while Append and CAS treat them alike. It is
// comparable, so porcupine's default equality and caching work.
type kvState struct {
	value string
	found bool
}

// linOutput is an operation's output for porcupine: the result the client
// accepted, or unknown for an operation that never completed (any result
// is then acceptable, and it may or may not have taken effect).
type linOutput struct {
	res     OpResult
	unknown bool
}

// kvModel is the sequential specification of pbft/kv for porcupine,
// partitioned by key (operations on different keys commute, so the
// history is linearizable iff each key's is, and each key is checked
// separately and in parallel).
var kvModel = porcupine.Model{
	Partition: partitionByKey,
	Init:      func() any { return kvState{} },
	Step: func(state, input, output any) (bool, any) {
		next, want := kvApply(state.(kvState), input.(Op))
		out := output.(linOutput)
		if out.unknown {
			return true, next
		}
		return sameResult(out.res, want), next
	},
	DescribeOperation: func(input, output any) string {
		return describeOp(input.(Op), output.(linOutput))
	},
	DescribeState: func(state any) string {
		s := state.(kvState)
		if !s.found {
			return "absent"
		}
		return fmt.Sprintf("%q", s.value)
	},
}

// kvApply is kv.Store.apply on one key: the next state and the result the
// store returns. It restates the semantics rather than calling the store,
// so that the checker judges the application instead of trusting it.
func kvApply(s kvState, op Op) (kvState, OpResult) {
	switch op.Kind {
	case KindPut:
		return kvState{op.Value, true}, OpResult{OK: true, Found: s.found}
	case KindGet:
		return s, OpResult{OK: true, Found: s.found, Value: s.value}
	case KindAppend:
		if len(s.value)+len(op.Value) > kv.MaxValueSize {
			return s, OpResult{Err: "kv: append would exceed MaxValueSize"}
		}
		v := s.value + op.Value
		return kvState{v, true}, OpResult{OK: true, Found: s.found, Value: v}
	case KindCAS:
		if s.value != op.Expected {
			return s, OpResult{Found: s.found, Value: s.value}
		}
		return kvState{op.Value, true}, OpResult{OK: true, Found: s.found, Value: op.Value}
	}
	return s, OpResult{Err: "unknown operation " + op.Kind}
}

// sameResult compares results; error messages are compared only for
// presence, since their wording is not part of the semantics.
func sameResult(got, want OpResult) bool {
	if (got.Err != "") || (want.Err != "") {
		return (got.Err != "") == (want.Err != "")
	}
	return got.OK == want.OK && got.Found == want.Found && got.Value == want.Value
}

// partitionByKey splits a history by key, keys in sorted order so that
// partition i is always the i-th key (the checker names failing keys by
// index).
func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	byKey := map[string][]porcupine.Operation{}
	for _, o := range history {
		k := o.Input.(Op).Key
		byKey[k] = append(byKey[k], o)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]porcupine.Operation, len(keys))
	for i, k := range keys {
		out[i] = byKey[k]
	}
	return out
}

// describeOp renders an operation for porcupine's visualisation and for
// violation messages: `Append("k", "x") → {ok found "ax"}`.
func describeOp(op Op, out linOutput) string {
	var call string
	switch op.Kind {
	case KindGet:
		call = fmt.Sprintf("Get(%q)", op.Key)
	case KindCAS:
		call = fmt.Sprintf("CAS(%q, %q, %q)", op.Key, op.Expected, op.Value)
	default:
		call = fmt.Sprintf("%s(%q, %q)", op.Kind, op.Key, op.Value)
	}
	if out.unknown {
		return call + " → ?"
	}
	return call + " → " + describeResult(out.res)
}

// describeResult renders a result compactly: {ok found "value"}.
func describeResult(r OpResult) string {
	if r.Err != "" {
		return "error(" + r.Err + ")"
	}
	var parts []string
	if r.OK {
		parts = append(parts, "ok")
	} else {
		parts = append(parts, "!ok")
	}
	if r.Found {
		parts = append(parts, "found")
	}
	if r.Value != "" {
		parts = append(parts, fmt.Sprintf("%q", r.Value))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// ResultFromKV converts a decoded kv.Result for Op.Output.
func ResultFromKV(r kv.Result) OpResult {
	return OpResult{OK: r.OK, Found: r.Found, Value: string(r.Value), Err: r.Err}
}

// OpFromKV fills an Op's operation fields (Kind, Key, Value, Expected)
// from a decoded kv.Op; the runner adds client, timestamp, times and
// output.
func OpFromKV(o kv.Op) Op {
	return Op{Kind: o.Kind.String(), Key: string(o.Key), Value: string(o.Value), Expected: string(o.Expected)}
}

package bench

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/anishathalye/porcupine"
)

// LinearizabilityFile is the name of porcupine's visualisation, written to
// the report folder when a history is not linearizable.
const LinearizabilityFile = "linearizability.html"

// Linearizability checks the client history against the sequential kv
// specification with porcupine, per key. Operations that never completed
// may have taken effect or not: their return is put after every other
// event and any output is accepted, which is how Knossos and Jepsen treat
// indeterminate operations; reads that never completed have no effect and
// are dropped. On a violation it writes porcupine's visualisation to
// opts.Dir and names the keys whose histories have no linearization.
func Linearizability(r *Result, opts CheckOptions) Verdict {
	v := Verdict{Name: CheckLinearizability, ExpectPass: true}
	ops, keys := porcupineHistory(r.History)
	if len(ops) == 0 {
		v.Pass, v.Inconclusive = true, true
		v.Summary = "nothing to check: empty history"
		return v
	}
	timeout := opts.LinearizabilityTimeout
	if timeout <= 0 {
		timeout = DefaultLinearizabilityTimeout
	}
	start := time.Now()
	res := porcupine.CheckOperationsTimeout(kvModel, ops, timeout)
	took := time.Since(start).Round(time.Millisecond)
	switch res {
	case porcupine.Ok:
		v.Pass = true
		v.Summary = fmt.Sprintf("%d operations on %d keys are linearizable (checked in %v)", len(ops), len(keys), took)
		return v
	case porcupine.Unknown:
		v.Pass, v.Inconclusive = true, true
		v.Summary = fmt.Sprintf("inconclusive: the search over %d operations on %d keys timed out after %v", len(ops), len(keys), timeout)
		return v
	}

	// Illegal: search again, keeping the partial linearizations that the
	// visualisation and the per-key diagnosis need (the first pass stops
	// at the first bad key, which is faster when the history is fine).
	_, info := porcupine.CheckOperationsVerbose(kvModel, ops, timeout)
	bad := badKeys(info, keys, ops)
	v.Summary = fmt.Sprintf("NOT linearizable: %d of %d keys have no valid order (%d operations)", len(bad), len(keys), len(ops))
	for i, k := range bad {
		if i == maxDetails {
			v.Details = append(v.Details, fmt.Sprintf("… and %d more keys", len(bad)-maxDetails))
			break
		}
		v.Details = append(v.Details, k)
	}
	if opts.Dir != "" {
		path := filepath.Join(opts.Dir, LinearizabilityFile)
		if err := porcupine.VisualizePath(kvModel, info, path); err != nil {
			v.Details = append(v.Details, "could not write the visualisation: "+err.Error())
		} else {
			v.Summary += "; see " + path
			v.Details = append(v.Details, "visualisation: "+path)
		}
	}
	return v
}

// porcupineHistory converts the history for porcupine and returns the
// sorted keys (partition i of kvModel is keys[i]). Client names become
// dense ids, as the visualisation draws one lane per id.
func porcupineHistory(history []Op) ([]porcupine.Operation, []string) {
	var horizon time.Duration
	clients := map[string]int{}
	var names []string
	for _, o := range history {
		horizon = max(horizon, o.Start, o.End)
		if _, ok := clients[o.Client]; !ok {
			clients[o.Client] = 0
			names = append(names, o.Client)
		}
	}
	slices.Sort(names)
	for i, n := range names {
		clients[n] = i
	}
	keySet := map[string]bool{}
	var ops []porcupine.Operation
	for _, o := range history {
		out := linOutput{res: o.Output}
		end := o.End
		if !o.Completed {
			if o.Kind == KindGet {
				continue
			}
			out = linOutput{unknown: true}
			end = horizon + 1
		}
		keySet[o.Key] = true
		ops = append(ops, porcupine.Operation{
			ClientId: clients[o.Client],
			Input:    o,
			Call:     int64(o.Start),
			Output:   out,
			Return:   int64(end),
			Metadata: fmt.Sprintf("client %s ts %d", o.Client, o.Timestamp),
		})
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return ops, keys
}

// badKeys names the keys with no complete linearization: for each, the
// longest valid prefix porcupine found and the operation it could not
// place after it.
func badKeys(info porcupine.LinearizationInfo, keys []string, ops []porcupine.Operation) []string {
	perKey := map[string]int{}
	for _, o := range ops {
		perKey[o.Input.(Op).Key]++
	}
	var out []string
	for p, partials := range info.PartialLinearizationsOperations() {
		if p >= len(keys) {
			break
		}
		k := keys[p]
		longest := 0
		for _, l := range partials {
			longest = max(longest, len(l))
		}
		if longest < perKey[k] {
			out = append(out, fmt.Sprintf("key %q: only %d of its %d operations can be ordered consistently with the kv semantics", k, longest, perKey[k]))
		}
	}
	return out
}

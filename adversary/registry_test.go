package adversary

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bftbed/bftbed/pbft"
)

func TestBehavioursSortedAndDescribed(t *testing.T) {
	names := Behaviours()
	if !slices.IsSorted(names) || len(names) != 15 {
		t.Fatalf("Behaviours() = %v", names)
	}
	for _, name := range names {
		info, ok := Describe(name)
		if !ok || info.Doc == "" {
			t.Errorf("%s: no description", name)
		}
		for _, p := range info.Params {
			if p.Doc == "" || p.Type == "" {
				t.Errorf("%s.%s: undocumented", name, p.Name)
			}
		}
	}
	if _, ok := Describe("nope"); ok {
		t.Errorf("Describe(nope) found something")
	}
}

// TestNewBehaviourFromGoValues builds behaviours as a command line would,
// from plain Go values rather than decoded TOML.
func TestNewBehaviourFromGoValues(t *testing.T) {
	b, err := NewBehaviour("slow", map[string]any{"dist": "uniform", "delay": 5 * time.Millisecond, "max": "20ms"})
	if err != nil {
		t.Fatal(err)
	}
	if s := b.(*Slow); s.Dist != "uniform" || s.Delay != 5*time.Millisecond || s.Max != 20*time.Millisecond {
		t.Errorf("slow: %+v", s)
	}
	b, err = NewBehaviour("drop", map[string]any{"rate": 1, "peers": []int{1, 2}, "types": []string{"COMMIT", "PRE-PREPARE"}, "direction": "both"})
	if err != nil {
		t.Fatal(err)
	}
	if d := b.(*Drop); d.Rate != 1 || !slices.Equal(d.Peers, []pbft.ReplicaID{1, 2}) || !slices.Equal(d.Types, []pbft.MsgType{pbft.MsgCommit, pbft.MsgPrePrepare}) || d.Direction != "both" {
		t.Errorf("drop: %+v", d)
	}
	b, err = NewBehaviour("equivocate", nil)
	if err != nil || b.(*Equivocate).Other != nil {
		t.Errorf("equivocate without a cluster must leave the split to run time: %+v, %v", b, err)
	}
	for _, name := range []string{"crash-stop", "crash-recover", "pause", "twins"} {
		b, err := NewBehaviour(name, nil)
		if err != nil || b.Name() != name {
			t.Errorf("%s: %v, %v", name, b, err)
		}
		if lc, ok := b.(Lifecycle); !ok || lc.Lifecycle().String() != name {
			t.Errorf("%s: not a lifecycle fault", name)
		}
	}
}

func TestNewBehaviourErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]any
		env    BuildEnv
		want   string
	}{
		{"equivocation", nil, BuildEnv{}, `unknown behaviour "equivocation" (known: censor, corrupt, crash-recover, crash-stop, drop, equivocate, forge, isolate, partition, pause, replay, silent, skew, slow, twins)`},
		{"equivocate", map[string]any{"others": []int{2}}, BuildEnv{}, `equivocate: unknown parameter "others" (allowed: other)`},
		{"equivocate", map[string]any{"other": []int{4}}, BuildEnv{N: 4}, `equivocate: other names replica 4, out of range for n = 4 (ids are 0..3)`},
		{"equivocate", map[string]any{"other": []int{}}, BuildEnv{N: 4}, `equivocate: other must list at least one replica`},
		{"forge", map[string]any{"rate": 0}, BuildEnv{}, `forge: rate must be in (0, 1], got 0`},
		{"replay", map[string]any{"keep": 1.5}, BuildEnv{}, `replay: keep must be an integer, got 1.5`},
		{"slow", map[string]any{"delay": 100}, BuildEnv{}, `slow: delay: want a duration string such as "2s", got 100`},
		{"slow", map[string]any{"delay": "0s"}, BuildEnv{}, `slow: delay: must be greater than 0`},
		{"slow", map[string]any{"delay": "50ms", "max": "10ms", "dist": "uniform"}, BuildEnv{}, `slow: max (10ms) must be greater than delay (50ms)`},
		{"skew", map[string]any{"factor": "fast"}, BuildEnv{}, `skew: factor must be a finite number, got "fast"`},
		{"drop", map[string]any{"rate": 2}, BuildEnv{}, `drop: rate must be in [0, 1], got 2`},
		{"drop", map[string]any{"types": []any{}}, BuildEnv{}, `drop: types must list at least one message type`},
		{"partition", map[string]any{"groups": [][]int{{0, 1}}}, BuildEnv{}, `partition: groups must list at least two groups`},
		{"partition", map[string]any{"groups": []any{[]int{0}, []int{}}}, BuildEnv{}, `partition: groups: group 2 must not be empty`},
		{"partition", map[string]any{"oneway_from": []int{0}}, BuildEnv{}, `partition: oneway_from needs oneway_to`},
		{"partition", map[string]any{"oneway_from": []int{0, 1}, "oneway_to": []int{1}}, BuildEnv{}, `partition: replica 1 is in both oneway_from and oneway_to`},
		{"isolate", nil, BuildEnv{}, `isolate: isolate needs the nodes to cut off`},
		{"pause", map[string]any{"for": "1s"}, BuildEnv{}, `pause: unknown parameter "for" (pause takes no parameters)`},
	} {
		_, err := tc.env.NewBehaviour(tc.name, tc.params)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s %v:\n got %v\nwant %s", tc.name, tc.params, err, tc.want)
		}
	}
}

// TestSeveralParamErrors checks that every bad parameter is reported, each
// as a *ParamError naming it.
func TestSeveralParamErrors(t *testing.T) {
	_, err := NewBehaviour("corrupt", map[string]any{"rate": -1, "bytes": 0, "resign": 1, "extra": true})
	errs := flatten(err)
	var params []string
	for _, e := range errs {
		params = append(params, e.(*ParamError).Param)
	}
	if !slices.Equal(params, []string{"extra", "rate", "bytes", "resign"}) {
		t.Errorf("errors for %v: %v", params, err)
	}
}

func TestDefaultSplitIsHalfOfTheOthers(t *testing.T) {
	for _, n := range []int{4, 7, 10} {
		b, err := BuildEnv{N: n, Nodes: []pbft.ReplicaID{0}, Seed: 3}.NewBehaviour("equivocate", nil)
		if err != nil {
			t.Fatal(err)
		}
		other := b.(*Equivocate).Other
		if len(other) != n/2 || slices.Contains(other, 0) || !slices.IsSorted(other) {
			t.Errorf("n = %d: other = %v", n, other)
		}
	}
}

func TestMsgTypeNames(t *testing.T) {
	names := msgTypeNames()
	if len(names) != 11 || names[0] != "REQUEST" || !slices.Contains(names, "VIEW-CHANGE") {
		t.Errorf("msgTypeNames() = %v", names)
	}
	if _, ok := msgTypeByName("UNKNOWN"); ok {
		t.Errorf("UNKNOWN is not a type")
	}
	if !strings.Contains(quoteAll(names), `"PRE-PREPARE"`) {
		t.Errorf("quoteAll: %s", quoteAll(names))
	}
}

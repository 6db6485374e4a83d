package pbft

import (
	"cmp"
	"maps"
	"slices"
)

// sortedKeys returns the keys of m in increasing order: the core never lets
// map iteration order reach its output.
func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}

// sortSeqsDesc sorts sequence numbers from the highest down.
func sortSeqsDesc(s []Seq) {
	slices.SortFunc(s, func(a, b Seq) int { return cmp.Compare(b, a) })
}

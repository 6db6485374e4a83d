package adversary

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// lineIndex maps the keys and tables of a scenario file to their lines, so
// that errors found after decoding (a replica id out of range, overlapping
// faults) point at the line to fix. The decoder forgets positions; this
// index re-reads the document with go-toml's parser, which keeps them.
//
// Paths join keys with dots; the elements of an array of tables get a
// 1-based index: "testnet.n", "fault[2]" (the header of the second
// [[fault]]), "fault[2].other", "load.mix.put".
type lineIndex struct {
	lines  map[string]int
	starts []int // byte offset of the start of each line
}

// newLineIndex indexes data, which must be valid TOML (an invalid document
// is indexed up to its first error).
func newLineIndex(data []byte) *lineIndex {
	ix := &lineIndex{lines: map[string]int{}, starts: []int{0}}
	for i, c := range data {
		if c == '\n' {
			ix.starts = append(ix.starts, i+1)
		}
	}
	counts := map[string]int{} // elements seen per array of tables
	var p unstable.Parser
	p.Reset(data)
	table := ""
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = resolve(counts, keyParts(e), e.Kind == unstable.ArrayTable)
			ix.add(table, e.Child())
		case unstable.KeyValue:
			ix.keyValue(table, e)
		}
	}
	return ix
}

// keyParts returns the parts of a (possibly dotted) key.
func keyParts(n *unstable.Node) []string {
	var parts []string
	it := n.Key()
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// resolve turns the key of a table header into a path, numbering arrays of
// tables: a header [[a]] adds an element to a, and a later [a.b] refers to
// the last element of a.
func resolve(counts map[string]int, parts []string, arrayHeader bool) string {
	path := ""
	for i, part := range parts {
		path = join(path, part)
		if arrayHeader && i == len(parts)-1 {
			counts[path]++
		}
		if n := counts[path]; n > 0 {
			path = fmt.Sprintf("%s[%d]", path, n)
		}
	}
	return path
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// keyValue indexes a key (and the implicit tables of a dotted key) and,
// for inline tables and arrays of inline tables, the keys inside them.
func (ix *lineIndex) keyValue(table string, kv *unstable.Node) {
	if kv.Kind != unstable.KeyValue {
		return
	}
	path := table
	it := kv.Key()
	for it.Next() {
		path = join(path, string(it.Node().Data))
		ix.add(path, it.Node())
	}
	ix.value(path, kv.Value())
}

func (ix *lineIndex) value(path string, v *unstable.Node) {
	switch v.Kind {
	case unstable.InlineTable:
		it := v.Children()
		for it.Next() {
			ix.keyValue(path, it.Node())
		}
	case unstable.Array:
		i := 0
		it := v.Children()
		for it.Next() {
			if el := it.Node(); el.Kind == unstable.InlineTable {
				i++
				elPath := fmt.Sprintf("%s[%d]", path, i)
				ix.add(elPath, el)
				ix.value(elPath, el)
			}
		}
	}
}

// add records the line of node for path, keeping the first occurrence.
func (ix *lineIndex) add(path string, n *unstable.Node) {
	if _, ok := ix.lines[path]; ok || n == nil {
		return
	}
	ix.lines[path] = ix.line(int(n.Raw.Offset))
}

// line returns the 1-based line of a byte offset.
func (ix *lineIndex) line(offset int) int {
	return sort.Search(len(ix.starts), func(i int) bool { return ix.starts[i] > offset })
}

// find returns the line of the first path that the file contains, or 0.
func (ix *lineIndex) find(paths ...string) int {
	for _, p := range paths {
		if l, ok := ix.lines[p]; ok {
			return l
		}
	}
	return 0
}

// String lists the index, for debugging.
func (ix *lineIndex) String() string {
	var b bytes.Buffer
	keys := make([]string, 0, len(ix.lines))
	for k := range ix.lines {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "%d %s\n", ix.lines[k], k)
	}
	return strings.TrimSpace(b.String())
}

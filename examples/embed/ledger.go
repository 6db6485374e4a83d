package main

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/bftbed/bftbed/pbft"
)

// ledger is the example's replicated service: account balances, changed by
// "mint ACCOUNT AMOUNT" and "pay FROM TO AMOUNT", read by "balance
// ACCOUNT". Like every pbft.Application it is deterministic (the same
// operations in the same order give the same results and snapshots on
// every replica) and answers every operation, even one it cannot parse.
type ledger struct {
	balances map[string]uint64
}

func newLedger() *ledger { return &ledger{balances: map[string]uint64{}} }

// Execute implements pbft.Application.
func (l *ledger) Execute(_ pbft.Seq, ops []pbft.Operation) [][]byte {
	results := make([][]byte, len(ops))
	for i, op := range ops {
		results[i] = []byte(l.apply(strings.Fields(string(op.Op))))
	}
	return results
}

func (l *ledger) apply(f []string) string {
	switch {
	case len(f) == 3 && f[0] == "mint":
		n, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil {
			return "error: bad amount"
		}
		l.balances[f[1]] += n
		return fmt.Sprintf("ok: %s has %d", f[1], l.balances[f[1]])
	case len(f) == 4 && f[0] == "pay":
		n, err := strconv.ParseUint(f[3], 10, 64)
		if err != nil {
			return "error: bad amount"
		}
		if l.balances[f[1]] < n {
			return fmt.Sprintf("error: %s has only %d", f[1], l.balances[f[1]])
		}
		l.balances[f[1]] -= n
		l.balances[f[2]] += n
		return fmt.Sprintf("ok: %s has %d, %s has %d", f[1], l.balances[f[1]], f[2], l.balances[f[2]])
	case len(f) == 2 && f[0] == "balance":
		return strconv.FormatUint(l.balances[f[1]], 10)
	}
	return "error: unknown operation"
}

// Snapshot implements pbft.Application: "account=balance" lines in account
// order, so equal ledgers have equal snapshots (a map's iteration order
// would differ between replicas).
func (l *ledger) Snapshot() []byte {
	var b strings.Builder
	for _, acct := range slices.Sorted(maps.Keys(l.balances)) {
		fmt.Fprintf(&b, "%s=%d\n", acct, l.balances[acct])
	}
	return []byte(b.String())
}

// Restore implements pbft.Application; it leaves the ledger unchanged on
// bad input.
func (l *ledger) Restore(snapshot []byte) error {
	balances := map[string]uint64{}
	for line := range strings.Lines(string(snapshot)) {
		acct, amount, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "=")
		n, err := strconv.ParseUint(amount, 10, 64)
		if !ok || err != nil {
			return fmt.Errorf("ledger: bad snapshot line %q", line)
		}
		balances[acct] = n
	}
	l.balances = balances
	return nil
}

//go:build unix && !linux

package testnet

// Alive reports whether process pid exists. Without /proc, a zombie counts
// as alive.
func Alive(pid int) bool { return pid > 0 && signalExists(pid) }

// isNodeProcess reports whether pid is alive. Without /proc the command
// line cannot be checked, so a pid reused by another process after a node
// died would pass: remove stale pid files (`bftbed testnet down`) before
// reusing a testnet on these systems.
func isNodeProcess(pid int, _ string) bool { return Alive(pid) }

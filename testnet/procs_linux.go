package testnet

import (
	"bytes"
	"os"
	"strconv"
)

// Alive reports whether process pid exists and has not exited. A zombie (a
// process that exited but that its parent has not yet waited for) counts as
// gone: nodes outlive the `bftbed testnet up` that started them, and the
// process that inherits them does not always reap them promptly.
func Alive(pid int) bool {
	if pid <= 0 || !signalExists(pid) {
		return false
	}
	state, ok := procState(pid)
	return !ok || (state != 'Z' && state != 'X')
}

// procState returns the state letter of /proc/PID/stat (R, S, D, Z, ...).
func procState(pid int) (byte, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may contain spaces and ')': the
	// state follows the last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0, false
	}
	return data[i+2], true
}

// isNodeProcess reports whether pid is a live `bftbed node --config
// configPath` process. Checking the command line, not just that the pid
// exists, keeps bftbed from signalling an unrelated process that reused the
// pid of a node that died.
func isNodeProcess(pid int, configPath string) bool {
	if !Alive(pid) {
		return false
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	args := bytes.Split(bytes.TrimRight(data, "\x00"), []byte{0})
	for i := 1; i+2 < len(args); i++ {
		if string(args[i]) == "node" && string(args[i+1]) == "--config" && string(args[i+2]) == configPath {
			return true
		}
	}
	return false
}

package bench

import (
	"bytes"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of the CPU times in /proc/PID/stat. It
// is 100 on every Linux architecture Go supports (the kernel fixes it for
// user space whatever its internal HZ), and reading it properly needs cgo.
const clockTicks = 100

// procSample is a node process's CPU time and memory, from /proc.
type procSample struct {
	cpuTicks uint64 // user + system time, in clockTicks
	rssBytes uint64 // resident set size
	ok       bool   // false where /proc is missing (not Linux) or the process is gone
}

// pageSize converts /proc/PID/stat's rss, counted in pages.
var pageSize = uint64(os.Getpagesize())

// readProc reads /proc/PID/stat: utime and stime (fields 14 and 15) and
// rss (field 24), the same numbers /proc/PID/status shows as VmRSS, in one
// small read.
func readProc(pid int) procSample {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procSample{}
	}
	// The command name, in parentheses, may hold spaces and ')': fields
	// are counted after the last ')', which ends field 2.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procSample{}
	}
	fields := bytes.Fields(data[i+1:])
	// fields[0] is field 3 (state), so field k is fields[k-3].
	if len(fields) < 22 {
		return procSample{}
	}
	num := func(k int) uint64 {
		v, _ := strconv.ParseUint(string(fields[k-3]), 10, 64)
		return v
	}
	return procSample{cpuTicks: num(14) + num(15), rssBytes: num(24) * pageSize, ok: true}
}

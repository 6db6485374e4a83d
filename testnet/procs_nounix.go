//go:build !unix

package testnet

import (
	"errors"
	"os/exec"
)

// Running a testnet of OS processes needs Unix signals and sessions.
var errNoUnix = errors.New("testnet: running OS-process testnets needs a Unix system")

func detach(*exec.Cmd)               {}
func terminate(int) error            { return errNoUnix }
func kill(int) error                 { return errNoUnix }
func isNodeProcess(int, string) bool { return false }

// Alive reports false: processes are not tracked on this system.
func Alive(int) bool { return false }

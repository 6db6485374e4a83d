//go:build unix

package testnet

import (
	"errors"
	"os/exec"
	"syscall"
)

// detach makes cmd start in a new session, hence a new process group with
// no controlling terminal: terminal signals (Ctrl-C's SIGINT, SIGHUP when
// the terminal closes) reach the bftbed command, never the node.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}

// sendSignal sends sig to the one process pid (never a group).
func sendSignal(pid int, sig syscall.Signal) error {
	err := syscall.Kill(pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // already gone
	}
	return err
}

// terminate asks pid to stop (SIGTERM).
func terminate(pid int) error { return sendSignal(pid, syscall.SIGTERM) }

// kill stops pid at once (SIGKILL).
func kill(pid int) error { return sendSignal(pid, syscall.SIGKILL) }

// signalExists reports whether a process with this pid exists, zombies
// included.
func signalExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

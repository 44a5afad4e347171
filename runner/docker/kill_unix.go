//go:build unix

package docker

import "syscall"

// killPid kills the process group led by pid, if it leads one, and pid.
func killPid(pid int) {
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
}

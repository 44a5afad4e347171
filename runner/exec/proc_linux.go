package exec

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr starts the program in a process group of its own, killed when
// the node process goes away, and inside cg when there is one.
func sysProcAttr(cg *cgroup) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if cg != nil && cg.fd != nil {
		a.UseCgroupFD = true
		a.CgroupFD = int(cg.fd.Fd())
	}
	return a
}

// waitExited blocks until process pid has exited, without reaping it, so
// that its pid (and so its process group id) cannot be reused while the
// group is cleaned up. It reports whether it could.
func waitExited(pid int) bool {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err == unix.EINTR {
			continue
		}
		return err == nil
	}
}

// readCgroupSelf reads the cgroup membership of the node process.
func readCgroupSelf() []byte {
	b, _ := os.ReadFile("/proc/self/cgroup")
	return b
}

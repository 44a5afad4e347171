//go:build !unix

package docker

import "os"

// killPid kills process pid.
func killPid(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

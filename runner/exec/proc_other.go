//go:build unix && !linux

package exec

import (
	"fmt"
	"syscall"

	"github.com/muster-dev/muster/schema"
)

// sysProcAttr starts the program in a process group of its own.
func sysProcAttr(cg *cgroup) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// waitExited cannot wait without reaping here: the handle reaps first and
// then kills the rest of the group.
func waitExited(pid int) bool { return false }

// cgroup exists only on Linux.
type cgroup struct{}

func detectCgroup(root string, self []byte) (parent, reason string) {
	return "", "cgroups exist only on Linux"
}

func newCgroup(parent, id string, res schema.Resources) (*cgroup, error) {
	return nil, fmt.Errorf("cgroups exist only on Linux")
}

func (c *cgroup) closeFD()        {}
func (c *cgroup) oomKilled() bool { return false }
func (c *cgroup) kill()           {}
func (c *cgroup) remove() error   { return nil }

const cgroupRoot = ""

func readCgroupSelf() []byte { return nil }

func prepareParent(dir string) (parent, reason string) {
	return "", "cgroups exist only on Linux"
}

//go:build unix

package exec

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/muster-dev/muster/runner"
)

// The driver notes each running execution's process group in a file beside
// its root (<root>/../exec.pgid: the group id and the leader's start time),
// so that a later process can end what a killed one left behind: Pdeathsig
// ends the direct child with its parent, but not the rest of its group.

func pgidFile(root string) string { return filepath.Join(filepath.Dir(root), "exec.pgid") }

// notePgid records the group of a started execution.
func notePgid(root string, pgid int) {
	if start, ok := startTime(pgid); ok {
		os.WriteFile(pgidFile(root), []byte(fmt.Sprintf("%d %s\n", pgid, start)), 0o644)
	}
}

// forgetPgid removes the note when the execution ended normally.
func forgetPgid(root string) { os.Remove(pgidFile(root)) }

// killOrphans ends the process group noted for root if its leader is still
// the same process (same start time, so a reused pid is left alone), and
// reports why nothing can be re-attached: exec processes are not children of
// a new process, so they cannot be waited for.
func killOrphans(root string) error {
	b, err := os.ReadFile(pgidFile(root))
	if err != nil {
		return runner.ErrNotRecoverable
	}
	defer forgetPgid(root)
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return runner.ErrNotRecoverable
	}
	pgid, err := strconv.Atoi(f[0])
	if err != nil || pgid <= 1 {
		return runner.ErrNotRecoverable
	}
	if start, ok := startTime(pgid); ok && start == f[1] {
		syscall.Kill(-pgid, syscall.SIGKILL)
		return fmt.Errorf("%w: its process group %d outlived the process that started it and was killed", runner.ErrNotRecoverable, pgid)
	}
	return runner.ErrNotRecoverable
}

// startTime reads field 22 of /proc/<pid>/stat, the process start time.
func startTime(pid int) (string, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", false
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return "", false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", false
	}
	return f[19], true
}

//go:build unix

package exec

import (
	"fmt"
	"io"
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

// pgidName is the note's name in the execution directory, the root's
// parent. The note is read and written through an os.Root of that
// directory, so a link planted in its place cannot make the driver write or
// read a file elsewhere on the node.
const pgidName = "exec.pgid"

// execDir opens the execution directory holding root.
func execDir(root string) (*os.Root, error) { return os.OpenRoot(filepath.Dir(root)) }

// notePgid records the group of a started execution.
func notePgid(root string, pgid int) {
	start, ok := startTime(pgid)
	if !ok {
		return
	}
	r, err := execDir(root)
	if err != nil {
		return
	}
	defer r.Close()
	r.Remove(pgidName) // never write through whatever is there
	f, err := r.OpenFile(pgidName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return
	}
	fmt.Fprintf(f, "%d %s\n", pgid, start)
	f.Close()
}

// forgetPgid removes the note when the execution ended normally.
func forgetPgid(root string) {
	if r, err := execDir(root); err == nil {
		r.Remove(pgidName)
		r.Close()
	}
}

// readPgid reads the note, only from a regular file.
func readPgid(root string) ([]byte, error) {
	r, err := execDir(root)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, _, err := runner.OpenRegular(r, pgidName)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 256))
}

// killOrphans ends the process group noted for root if its leader is still
// the same process (same start time, so a reused pid is left alone), and
// reports why nothing can be re-attached: exec processes are not children of
// a new process, so they cannot be waited for.
func killOrphans(root string) error {
	b, err := readPgid(root)
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

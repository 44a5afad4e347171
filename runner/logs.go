package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/muster-dev/muster/state"
)

// MaxLogChunk is the most ReadLog returns at once.
const MaxLogChunk = 1 << 20

// ReadLog returns what execution id wrote to stream ("stdout" or "stderr")
// from byte offset on, at most MaxLogChunk bytes; an empty result means
// nothing more was written yet. An execution that never wrote (or does not
// exist on this node) reads as empty.
func (a *Agent) ReadLog(ctx context.Context, id, stream string, offset int64) ([]byte, error) {
	if err := state.CheckExecutionID(id); err != nil {
		return nil, err // a path of its own would lead out of the agent's directory
	}
	stdout, stderr := a.LogPaths(id)
	path := stdout
	switch stream {
	case "stdout", "":
	case "stderr":
		path = stderr
	default:
		return nil, fmt.Errorf("log stream %q: want stdout or stderr", stream)
	}
	if offset < 0 {
		return nil, fmt.Errorf("log offset %d is negative", offset)
	}
	f, fi, err := openLogFile(filepath.Dir(path), filepath.Base(path), os.O_RDONLY)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if offset >= fi.Size() {
		return nil, nil
	}
	buf := make([]byte, min(fi.Size()-offset, MaxLogChunk))
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

// openLogs opens (creating) the stdout and stderr logs of execution id for
// appending.
func (a *Agent) openLogs(id string) (stdout, stderr *os.File, err error) {
	dir := a.ExecutionDir(id)
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	flag := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if stdout, _, err = openLogIn(r, dir, "stdout.log", flag); err != nil {
		return nil, nil, err
	}
	if stderr, _, err = openLogIn(r, dir, "stderr.log", flag); err != nil {
		stdout.Close()
		return nil, nil, err
	}
	return stdout, stderr, nil
}

// openLogFile opens log name of execution directory dir through an
// os.Root of dir: a link planted in its place cannot lead the agent out of
// the execution's directory, and only a regular file is used, opened
// without blocking.
func openLogFile(dir, name string, flag int) (*os.File, os.FileInfo, error) {
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	return openLogIn(r, dir, name, flag)
}

// openLogIn is openLogFile through r, an os.Root of dir.
func openLogIn(r *os.Root, dir, name string, flag int) (*os.File, os.FileInfo, error) {
	f, fi, err := openRegular(r, name, flag, 0o644)
	var nre *NotRegularError
	if errors.As(err, &nre) {
		err = fmt.Errorf("log %s: %w", filepath.Join(dir, name), err)
	}
	return f, fi, err
}

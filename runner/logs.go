package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// MaxLogChunk is the most ReadLog returns at once.
const MaxLogChunk = 1 << 20

// ReadLog returns what execution id wrote to stream ("stdout" or "stderr")
// from byte offset on, at most MaxLogChunk bytes; an empty result means
// nothing more was written yet. An execution that never wrote (or does not
// exist on this node) reads as empty.
func (a *Agent) ReadLog(ctx context.Context, id, stream string, offset int64) ([]byte, error) {
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
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
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

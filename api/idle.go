package api

import (
	"errors"
	"io"
	"time"
)

// errStreamIdle ends the read of an event stream that sent nothing, not
// even its heartbeat, for too long: the control plane hangs or the network
// to it is cut.
var errStreamIdle = errors.New("the event stream sent nothing for too long")

// idleReader reads r and closes it when a read waits longer than idle,
// which makes that read fail with errStreamIdle.
type idleReader struct {
	r    io.ReadCloser
	idle time.Duration
}

func (i *idleReader) Read(p []byte) (int, error) {
	fired := make(chan struct{})
	t := time.AfterFunc(i.idle, func() {
		close(fired)
		i.r.Close()
	})
	n, err := i.r.Read(p)
	if !t.Stop() {
		<-fired
		if n == 0 {
			return 0, errStreamIdle
		}
	}
	return n, err
}

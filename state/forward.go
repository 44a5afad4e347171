package state

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// forward sends, on the channel it returns (of size buf), what convert
// makes of each update of w (nil marks the end of the initial replay),
// skipping those it says no to, until ctx is done or w ends; it then
// stops w and closes the channel. A slow reader holds the watch back: no
// update is skipped for it.
func forward[T any](ctx context.Context, w jetstream.KeyWatcher, buf int, convert func(jetstream.KeyValueEntry) (T, bool)) <-chan T {
	out := make(chan T, buf)
	go func() {
		defer close(out)
		defer w.Stop()
		for {
			var ev T
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if ev, ok = convert(e); !ok {
					continue
				}
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

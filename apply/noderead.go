package apply

import (
	"context"
	"sync"
	"time"

	"github.com/muster-dev/muster/state"
)

// nodeReadTimeout bounds one shared read of the nodes.
const nodeReadTimeout = time.Minute

// nodeReads shares reads of every node among the callers that want the
// nodes as they are now: a caller gets the result of a read that began
// after it asked, so it sees every node recorded before it asked, and
// callers that ask while a read is under way share the next one. Many
// rollouts starting at once (each places its job on the nodes) so cost
// two reads of the nodes, not one each. The next read starts when the one
// under way ends, or nodeReadPatience after it began, whichever is first:
// a read held up by a connection that broke does not hold up the next.
// Its zero value is ready.
type nodeReads struct {
	mu sync.Mutex
	// last is the read begun last (nil before the first); next is the
	// read the callers that came since wait for, not begun yet.
	last, next *nodeRead
	// begun counts the reads begun.
	begun uint64
}

// mark returns a mark of now: a read begun later has a greater seq.
func (r *nodeReads) mark() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.begun
}

// nodeReadPatience is how long a read may run before the next one starts
// beside it.
const nodeReadPatience = 2 * time.Second

// nodeRead is one read of the nodes.
type nodeRead struct {
	// seq numbers the reads in the order they began.
	seq   uint64
	done  chan struct{}
	nodes []state.Node
	err   error
	// noted is done by the first caller that gives the nodes to noteNode:
	// the others need not look at the same records again.
	noted sync.Once
}

// get returns the nodes as read by a read that began after mark since,
// with that read. The slice is shared: callers do not change it.
func (r *nodeReads) get(ctx context.Context, since uint64, read func(context.Context) ([]state.Node, error)) (*nodeRead, error) {
	r.mu.Lock()
	if last := r.last; last != nil && last.seq > since {
		// Begun after the caller asked (it waited for its turn since):
		// that one does, unless it is held up.
		r.mu.Unlock()
		t := time.NewTimer(nodeReadPatience)
		defer t.Stop()
		select {
		case <-last.done:
			return last, last.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		r.mu.Lock()
	}
	nr := r.next
	if nr == nil {
		nr = &nodeRead{done: make(chan struct{})}
		r.next = nr
		if last := r.last; last == nil {
			r.begin(nr, read)
		} else {
			go func() {
				t := time.NewTimer(nodeReadPatience)
				defer t.Stop()
				select {
				case <-last.done:
				case <-t.C:
				}
				r.mu.Lock()
				r.begin(nr, read)
				r.mu.Unlock()
			}()
		}
	}
	r.mu.Unlock()
	select {
	case <-nr.done:
		return nr, nr.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// begin starts read nr; r.mu is held.
func (r *nodeReads) begin(nr *nodeRead, read func(context.Context) ([]state.Node, error)) {
	if r.next == nr {
		r.next = nil
	}
	r.begun++
	nr.seq = r.begun
	r.last = nr
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), nodeReadTimeout)
		nr.nodes, nr.err = read(ctx)
		cancel()
		close(nr.done)
	}()
}

// nodesAskedKey is the context key of a mark of nodeReads (see
// withNodesAsked).
type nodesAskedKey struct{}

// withNodesAsked returns ctx saying that its caller asked for the nodes as
// they are at mark: nodesNow may then answer with any read begun since,
// also one begun before the call (a rollout waiting for its turn to place
// its job shares the read of those that placed theirs meanwhile).
func withNodesAsked(ctx context.Context, mark uint64) context.Context {
	return context.WithValue(ctx, nodesAskedKey{}, mark)
}

// nodesNow returns every node as the store has it now (a read that began
// after the call, or after the mark of withNodesAsked, shared with other
// callers), having given each to noteNode once.
func (c *Controller) nodesNow(ctx context.Context) ([]state.Node, error) {
	since, ok := ctx.Value(nodesAskedKey{}).(uint64)
	if !ok {
		since = c.nodeReads.mark()
	}
	nr, err := c.nodeReads.get(ctx, since, func(ctx context.Context) ([]state.Node, error) { return c.store().Nodes(ctx) })
	if err != nil {
		return nil, err
	}
	if c.Connect != nil {
		nr.noted.Do(func() {
			for _, n := range nr.nodes {
				c.noteNode(ctx, n)
			}
		})
	}
	return nr.nodes, nil
}

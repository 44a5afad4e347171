package cli

import (
	"context"
	"io"
	"sync"
	"time"
)

// logTail prints what the executions of a rollout write, as they write it,
// read through the control plane: the same lines apply prints when it runs
// the executions itself, "  <id> | line" for stdout and "  <id> ! line" for
// stderr.
//
// It is built as &logTail{p, ns, name, w, out: map[string]*linePrefixer{},
// hide}; add names the executions to follow.
type logTail struct {
	p        *plane
	ns, name string
	w        io.Writer
	// hide holds the texts of the job's sensitive values, which the lines
	// show as (sensitive).
	hide []string

	mu    sync.Mutex
	ids   []string
	out   map[string]*linePrefixer // stdout, by execution id
	errs  map[string]*linePrefixer // stderr, by execution id
	read  map[tailKey]int64        // bytes read, by execution and stream
	lines sync.Mutex               // one writer at a time
}

// tailKey names one log stream of one execution.
type tailKey struct{ id, stream string }

// add follows execution id from now on (from the start of its logs).
func (t *logTail) add(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.out[id]; ok {
		return
	}
	if t.errs == nil {
		t.errs, t.read = map[string]*linePrefixer{}, map[tailKey]int64{}
	}
	t.ids = append(t.ids, id)
	t.out[id] = &linePrefixer{w: t.w, mu: &t.lines, prefix: "  " + id + " | ", hide: t.hide}
	t.errs[id] = &linePrefixer{w: t.w, mu: &t.lines, prefix: "  " + id + " ! ", hide: t.hide}
}

// run polls until ctx is done.
func (t *logTail) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(followPoll):
			t.poll(ctx)
		}
	}
}

// poll prints what every known execution wrote to stdout and stderr since
// the last poll.
func (t *logTail) poll(ctx context.Context) {
	t.mu.Lock()
	ids := append([]string(nil), t.ids...)
	t.mu.Unlock()
	for _, id := range ids {
		t.mu.Lock()
		out, errs := t.out[id], t.errs[id]
		t.mu.Unlock()
		t.drain(ctx, tailKey{id, "stdout"}, out)
		t.drain(ctx, tailKey{id, "stderr"}, errs)
	}
}

// drain copies what one stream wrote since the last read to w.
func (t *logTail) drain(ctx context.Context, k tailKey, w io.Writer) {
	for {
		t.mu.Lock()
		off := t.read[k]
		t.mu.Unlock()
		b, err := t.p.ctl.ReadLog(ctx, t.ns, t.name, k.id, k.stream, off)
		if err != nil || len(b) == 0 {
			return
		}
		w.Write(b)
		t.mu.Lock()
		t.read[k] = off + int64(len(b))
		t.mu.Unlock()
	}
}

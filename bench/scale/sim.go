package main

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/schema"
)

// simDriver is the simulated part of a node: a driver registered as
// "exec" in the simulated agents' own runner.Drivers (never with
// runner.Register), whose executions end at once with exit code 0. The
// agent around it is the real one (runner.Agent): it records starting,
// running and complete in the store, makes the execution's directory,
// root and log files, and publishes the end over NATS.
type simDriver struct {
	// started is told when an execution starts (its job and when).
	started func(job string, at time.Time)
	// clean removes execution directories a while after they ended.
	clean *cleaner
	// starts counts the executions started.
	starts atomic.Int64
}

var _ runner.Driver = (*simDriver)(nil)

func (d *simDriver) Name() string { return string(schema.Exec) }

func (d *simDriver) Start(ctx context.Context, s *runner.Spec) (runner.Handle, error) {
	now := time.Now()
	d.starts.Add(1)
	if d.started != nil {
		d.started(s.Job.Namespace+"/"+s.Job.Name, now)
	}
	if d.clean != nil {
		d.clean.add(filepath.Dir(s.Root), now)
	}
	return simHandle{}, nil
}

func (d *simDriver) Recover(ctx context.Context, s *runner.Spec) (runner.Handle, error) {
	return nil, runner.ErrNotRecoverable // nothing outlives the benchmark
}

func (d *simDriver) Limits() string { return "nothing: a simulated node runs no task" }

// simHandle is an execution that already ended well.
type simHandle struct{}

func (simHandle) Wait(context.Context) (runner.Result, error) {
	return runner.Result{ExitCode: 0}, nil
}

func (simHandle) Stop(context.Context, time.Duration) error { return nil }

// cleaner removes the directories of ended executions after delay (a real
// node keeps them for their logs; a million empty directories would only
// fill the machine's memory, since they live on tmpfs).
type cleaner struct {
	delay time.Duration
	mu    sync.Mutex
	queue []queued
}

type queued struct {
	dir string
	at  time.Time
}

func (c *cleaner) add(dir string, at time.Time) {
	c.mu.Lock()
	c.queue = append(c.queue, queued{dir, at})
	c.mu.Unlock()
}

// run removes what is due every second until ctx ends.
func (c *cleaner) run(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cut := time.Now().Add(-c.delay)
		c.mu.Lock()
		n := 0
		for n < len(c.queue) && c.queue[n].at.Before(cut) {
			n++
		}
		due := append([]queued(nil), c.queue[:n]...)
		c.queue = append(c.queue[:0], c.queue[n:]...)
		c.mu.Unlock()
		for _, q := range due {
			// What the agent made: the root and the two logs; anything
			// else (a failed removal) is left to RemoveAll.
			if os.Remove(filepath.Join(q.dir, "stdout.log")) != nil || os.Remove(filepath.Join(q.dir, "stderr.log")) != nil ||
				os.Remove(filepath.Join(q.dir, "root")) != nil || os.Remove(q.dir) != nil {
				os.RemoveAll(q.dir)
			}
		}
	}
}

package state

import (
	"sync/atomic"
	"time"
)

// The operations of the store that ObserveOperations times: the reads and
// writes of KV keys and the events, as every Store method makes them. Each
// takes as long as its caller waits for it, the tries made again while a
// NATS cluster elects a stream leader included.
const (
	// OpGet reads one key.
	OpGet = "get"
	// OpList reads every key of a bucket that matches a filter (one round
	// of a KV watch): the listings of jobs, executions, nodes, rollouts.
	OpList = "list"
	// OpCreate writes a key that must not exist.
	OpCreate = "create"
	// OpUpdate writes a key over the revision it was read at
	// (compare-and-set).
	OpUpdate = "update"
	// OpPut writes a key whatever it holds.
	OpPut = "put"
	// OpDelete deletes or purges a key.
	OpDelete = "delete"
	// OpPublish stores an event in the events stream.
	OpPublish = "publish"
)

// Operations lists every operation ObserveOperations reports, in a fixed
// order.
var Operations = []string{OpGet, OpList, OpCreate, OpUpdate, OpPut, OpDelete, OpPublish}

// OperationObserver is told of one operation of a store: which (one of
// Operations), how long it took, and whether it failed. A key that is
// not there and a lost compare-and-set are answers, not failures: failed
// means JetStream gave none (a timeout, no stream leader) or refused the
// request.
type OperationObserver func(op string, took time.Duration, failed bool)

// observer is the OperationObserver of the process; nil observes nothing.
var observer atomic.Pointer[OperationObserver]

// ObserveOperations makes f be told of every operation of Operations that
// any Store of this process makes from now on, replacing the observer set
// before; nil stops. f is called from the goroutine of the operation, once
// it ended: it must be quick and safe for concurrent use.
func ObserveOperations(f OperationObserver) {
	if f == nil {
		observer.Store(nil)
		return
	}
	observer.Store(&f)
}

// observe tells the observer, if any, that operation op, begun at began,
// ended with err.
func observe(op string, began time.Time, err error) {
	f := observer.Load()
	if f == nil {
		return
	}
	failed := err != nil && !isNotFound(err) && !isCASFailure(err)
	(*f)(op, time.Since(began), failed)
}

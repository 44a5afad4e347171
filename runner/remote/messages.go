// Package remote carries executions between the rollout engine of a control
// plane and node agents in other processes, over NATS core request/reply.
//
// An agent serves its node on subjects under "muster.node.<node id>."
// (see NodeSubject): run, recover, stop, logs, running and probe. When an
// execution it runs ends, it records the final state in the store and then
// publishes a Done on "muster.exec.<node id>.<execution id>.done"
// (DoneSubject).
// Client is the engine's side: an apply.Runner for one remote node.
//
// # Probes
//
// A probe request (OpProbe) names an execution only: the agent probes it
// with the rollout.health_check.probe of the job it runs that execution
// for (runner.Agent.Probe), never with a probe spec from the network, so a
// request can make a node connect to no address and run no command but
// those of the jobs it was given to run. An agent answers only for the
// executions it runs itself: any other id, another node's included, is
// NotRunning. A node's credentials let it serve and answer its own
// subjects ("muster.node.<its id>.*", OpProbe among them) and publish on
// no other node's, so one node can neither probe another's executions
// nor take its probe requests. Only control planes ask.
package remote

import (
	"encoding/json"
	"time"

	"github.com/muster-dev/muster/runner"
	"github.com/muster-dev/muster/state"
)

// Operations, the last token of a node subject.
const (
	// OpRun starts an execution: RunRequest, answered by a StartReply.
	OpRun = "run"
	// OpRecover re-attaches to an execution an earlier process started:
	// RunRequest, answered by a StartReply whose Accepted says whether
	// there was something to re-attach to.
	OpRecover = "recover"
	// OpStop stops an execution: ExecRequest, answered by a StopReply once
	// the execution ended (or did not in time).
	OpStop = "stop"
	// OpLogs reads a log: LogsRequest, answered by the raw bytes, with an
	// error in the ErrorHeader header.
	OpLogs = "logs"
	// OpRunning asks whether the agent runs an execution: ExecRequest,
	// answered by a RunningReply.
	OpRunning = "running"
	// OpProbe probes an execution the agent runs with its job's probe:
	// ExecRequest (with TimeoutMillis), answered by a ProbeReply.
	OpProbe = "probe"
)

// ErrorHeader is the header of a logs reply that carries an error instead
// of bytes.
const ErrorHeader = "Muster-Error"

// NodeSubject is the subject of operation op (one of the Op constants) of
// the agent of node nodeID: "muster.node.<node id>.<op>". Node ids may hold
// dots; the operation is always the last token, so subjects never collide
// (and a node's credentials, which allow "muster.node.<its id>.*", reach
// no other node's).
func NodeSubject(nodeID, op string) string { return state.NodeSubjects + nodeID + "." + op }

// DoneSubject is where the agent of node nodeID publishes the Done of an
// execution: "muster.exec.<node id>.<execution id>.done", which only that
// node's credentials may publish to.
func DoneSubject(nodeID, executionID string) string {
	return state.DoneSubjects + nodeID + "." + executionID + ".done"
}

// RunRequest asks an agent to run, or re-attach to, an execution.
type RunRequest struct {
	// Execution is the execution as last recorded in the store; the agent
	// writes its next states over this revision.
	Execution state.Execution `json:"execution"`
	// KVRevision is the KV revision at which the store holds Execution
	// exactly as sent (state.Execution.StoredRevision), 0 when not
	// known: the agent's first write goes over it without reading the
	// execution again (state.AsStored).
	KVRevision uint64 `json:"kv_revision,omitempty"`
	// SpecHash names the job spec in the store ("sha256:<hex>").
	SpecHash string `json:"spec_hash"`
	// Spec is the canonical spec itself, which the agent checks against
	// SpecHash: a node reads the specs of what it is asked to run, and no
	// other (its credentials may not read the specs bucket). An agent
	// asked without it reads the store.
	Spec []byte `json:"spec,omitempty"`
	// Sensitive are the paths of the spec's values from sensitive
	// variables, which the agent hides from what it records; sent with
	// Spec.
	Sensitive []string `json:"sensitive,omitempty"`
	// Secrets are the values of the secrets the execution refers to, by
	// "namespace/name", resolved by the control plane for this run only
	// (runner.Secrets); the agent never stores them. Empty on OpRecover.
	Secrets runner.Secrets `json:"secrets,omitempty"`
}

// StartReply answers a RunRequest. Its zero value refuses.
type StartReply struct {
	// Accepted says that the agent runs the execution now (OpRun) or
	// re-attached to it (OpRecover); a Done follows when it ends.
	Accepted bool `json:"accepted"`
	// Error says why the agent refused, when it did; empty on an
	// OpRecover that found nothing to re-attach to.
	Error string `json:"error,omitempty"`
	// GraceMillis is how long the agent lets an execution end after a stop
	// before it kills it, in milliseconds.
	GraceMillis int64 `json:"grace_ms,omitempty"`
}

// Grace returns GraceMillis as a duration.
func (r StartReply) Grace() time.Duration { return time.Duration(r.GraceMillis) * time.Millisecond }

// ExecRequest names one execution, for OpStop, OpRunning and OpProbe.
type ExecRequest struct {
	ExecutionID string `json:"execution_id"`
	// TimeoutMillis, on OpProbe, is how long the asker still waits for
	// the answer less ProbeMargin, in milliseconds: the agent ends the
	// probe within it (or within the probe's own timeout, when shorter)
	// and answers an error when it had to cut the probe short. Zero: the
	// probe's own timeout alone bounds it.
	TimeoutMillis int64 `json:"timeout_ms,omitempty"`
}

// ProbeReply answers an OpProbe: what the probe found (NotRunning when the
// agent runs no such execution), or why the agent could not probe.
type ProbeReply struct {
	runner.ProbeResult
	// Error says why the agent could not say anything about the
	// execution (the asker's bound ended first); the result is then
	// empty.
	Error string `json:"error,omitempty"`
}

// StopReply answers an OpStop.
type StopReply struct {
	// Running says that the agent was running the execution.
	Running bool `json:"running"`
	// Ended says that it ended before the reply; its Done was published
	// first.
	Ended bool `json:"ended"`
}

// RunningReply answers an OpRunning.
type RunningReply struct {
	// Running says that the agent runs the execution and has not published
	// its Done yet.
	Running bool `json:"running"`
}

// LogsRequest asks for what an execution wrote to a stream, as
// runner.Agent.ReadLog.
type LogsRequest struct {
	ExecutionID string `json:"execution_id"`
	// Stream is "stdout" or "stderr"; empty means stdout.
	Stream string `json:"stream,omitempty"`
	// Offset is the byte offset to read from.
	Offset int64 `json:"offset"`
}

// Done tells how an execution ended. The agent publishes it after it
// recorded the final state in the store.
type Done struct {
	ExitCode  int    `json:"exit_code"`
	Signal    string `json:"signal,omitempty"`
	OOMKilled bool   `json:"oom_killed,omitempty"`
	Message   string `json:"message,omitempty"`
	// Error is an error about muster itself (the store, the node's disk)
	// that ended the run, as runner.Agent.Run returns it.
	Error string `json:"error,omitempty"`
}

// NewDone returns the Done of a run that returned res and err.
func NewDone(res runner.Result, err error) Done {
	d := Done{ExitCode: res.ExitCode, Signal: res.Signal, OOMKilled: res.OOMKilled, Message: res.Message}
	if err != nil {
		d.Error = err.Error()
	}
	return d
}

// Result returns the runner.Result d carries.
func (d Done) Result() runner.Result {
	return runner.Result{ExitCode: d.ExitCode, Signal: d.Signal, OOMKilled: d.OOMKilled, Message: d.Message}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of this file are encoded
	}
	return b
}

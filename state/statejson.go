package state

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The JSON of a job status and of an execution status follows the state
// structure of the job models muster was born from (Bacalhau's
// models.State): a state is an object {state_type, message, details}, not
// a bare string. docs/api.md describes it.
//
// The Go types keep their fields (JobStatus.State and Message,
// ExecutionStatus.ComputeState, DesiredState and Message): only the
// encoding changes. The stored records are written in the same form as
// the API answers. Decoding accepts both this form and the one of records
// written before it, where a state was a bare string beside a top-level
// message, so that a state stored by an older muster still loads.

// stateDoc is a state in its JSON form. Message and Details are left out
// when empty; muster records no details yet, and ignores any it reads.
type stateDoc[T ~string] struct {
	StateType T                 `json:"state_type"`
	Message   string            `json:"message,omitempty"`
	Details   map[string]string `json:"details,omitempty"`
}

// decodeState reads raw, a state object or the bare string of an older
// record, into its type and message. Absent or null gives the zero state.
func decodeState[T ~string](raw json.RawMessage, what string) (T, string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return "", "", nil
	}
	if raw[0] == '"' {
		var s T
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", "", fmt.Errorf("%s: %w", what, err)
		}
		return s, "", nil
	}
	var doc stateDoc[T]
	if err := json.Unmarshal(raw, &doc); err != nil {
		return "", "", fmt.Errorf("%s: want {state_type, message, details} or a string: %w", what, err)
	}
	return doc.StateType, doc.Message, nil
}

// executionStatusDoc is an ExecutionStatus in its JSON form: the message
// says why the execution is in its compute state.
type executionStatusDoc struct {
	ComputeState stateDoc[ComputeState] `json:"compute_state"`
	DesiredState stateDoc[DesiredState] `json:"desired_state"`
}

// MarshalJSON writes s as {compute_state: {state_type, message},
// desired_state: {state_type}}.
func (s ExecutionStatus) MarshalJSON() ([]byte, error) {
	return marshalPlain(executionStatusDoc{
		ComputeState: stateDoc[ComputeState]{StateType: s.ComputeState, Message: s.Message},
		DesiredState: stateDoc[DesiredState]{StateType: s.DesiredState},
	})
}

// UnmarshalJSON reads the form MarshalJSON writes, or the older one:
// {compute_state: "running", desired_state: "running", message}. A
// message in desired_state is kept only when compute_state has none.
func (s *ExecutionStatus) UnmarshalJSON(b []byte) error {
	var doc struct {
		ComputeState json.RawMessage `json:"compute_state"`
		DesiredState json.RawMessage `json:"desired_state"`
		Message      string          `json:"message"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	compute, cmsg, err := decodeState[ComputeState](doc.ComputeState, "compute_state")
	if err != nil {
		return err
	}
	desired, dmsg, err := decodeState[DesiredState](doc.DesiredState, "desired_state")
	if err != nil {
		return err
	}
	*s = ExecutionStatus{ComputeState: compute, DesiredState: desired, Message: firstOf(cmsg, doc.Message, dmsg)}
	return nil
}

// jobStatusDoc is a JobStatus in its JSON form.
type jobStatusDoc struct {
	Namespace string             `json:"namespace"`
	Name      string             `json:"name"`
	Version   int                `json:"version"`
	Hash      string             `json:"hash"`
	Revision  uint64             `json:"revision"`
	State     stateDoc[JobState] `json:"state"`
	UpdatedAt time.Time          `json:"updated_at"`
}

// MarshalJSON writes s with its state and message as one state object:
// {namespace, name, version, hash, revision, state: {state_type,
// message}, updated_at}.
func (s JobStatus) MarshalJSON() ([]byte, error) {
	return marshalPlain(jobStatusDoc{
		Namespace: s.Namespace, Name: s.Name, Version: s.Version, Hash: s.Hash, Revision: s.Revision,
		State:     stateDoc[JobState]{StateType: s.State, Message: s.Message},
		UpdatedAt: s.UpdatedAt,
	})
}

// UnmarshalJSON reads the form MarshalJSON writes, or the older one with
// a bare state string and a top-level message. It leaves the KV revision
// alone: that is not part of the value.
func (s *JobStatus) UnmarshalJSON(b []byte) error {
	var doc struct {
		jobStatusDoc
		State   json.RawMessage `json:"state"`
		Message string          `json:"message"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	st, msg, err := decodeState[JobState](doc.State, "state")
	if err != nil {
		return err
	}
	d := doc.jobStatusDoc
	s.Namespace, s.Name, s.Version, s.Hash, s.Revision, s.UpdatedAt = d.Namespace, d.Name, d.Version, d.Hash, d.Revision, d.UpdatedAt
	s.State, s.Message = st, firstOf(msg, doc.Message)
	return nil
}

// marshalPlain is json.Marshal without escaping <, > and &: whoever
// encodes the value holding it decides on that (the CLI does not escape).
func marshalPlain(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// firstOf returns the first of ss that is not empty.
func firstOf(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

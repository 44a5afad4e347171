package cli

import "encoding/json"

// The tests read job and execution states from -o json, where a state is
// an object {state_type, message} (docs/api.md).

// stateJSON is a state as -o json writes it.
type stateJSON struct {
	Type    string `json:"state_type"`
	Message string `json:"message"`
}

// stateType is a state read as the name of its type, for tests that
// compare states with strings.
type stateType string

// UnmarshalJSON reads a state object.
func (s *stateType) UnmarshalJSON(b []byte) error {
	var st stateJSON
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	*s = stateType(st.Type)
	return nil
}

// decodeJobState decodes b, a job's JSON whose "state" is a state object,
// into plain (the fields beside it) and the state's type and message into
// st and msg.
func decodeJobState(b []byte, plain any, st, msg *string) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	var state stateJSON
	if raw, ok := fields["state"]; ok {
		if err := json.Unmarshal(raw, &state); err != nil {
			return err
		}
		delete(fields, "state")
	}
	rest, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(rest, plain); err != nil {
		return err
	}
	*st, *msg = state.Type, state.Message
	return nil
}

// UnmarshalJSON reads a job status, whose state object holds its state
// and message.
func (s *statusJSON) UnmarshalJSON(b []byte) error {
	type plain statusJSON
	return decodeJobState(b, (*plain)(s), &s.State, &s.Message)
}

// UnmarshalJSON reads a job's story, as statusJSON.UnmarshalJSON does.
func (s *periodicStatus) UnmarshalJSON(b []byte) error {
	type plain periodicStatus
	return decodeJobState(b, (*plain)(s), &s.State, &s.Message)
}

// UnmarshalJSON reads a job's record, as statusJSON.UnmarshalJSON does.
func (r *jobRecord) UnmarshalJSON(b []byte) error {
	type plain jobRecord
	return decodeJobState(b, (*plain)(r), &r.State, &r.Message)
}

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

// UnmarshalJSON reads a job status, whose state object holds its state
// and message.
func (s *statusJSON) UnmarshalJSON(b []byte) error {
	type plain statusJSON
	var doc struct {
		plain
		State stateJSON `json:"state"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	*s = statusJSON(doc.plain)
	s.State, s.Message = doc.State.Type, doc.State.Message
	return nil
}

// UnmarshalJSON reads a job's story, as statusJSON.UnmarshalJSON does.
func (s *periodicStatus) UnmarshalJSON(b []byte) error {
	type plain periodicStatus
	var doc struct {
		plain
		State stateJSON `json:"state"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	*s = periodicStatus(doc.plain)
	s.State, s.Message = doc.State.Type, doc.State.Message
	return nil
}

// UnmarshalJSON reads a job's record, as statusJSON.UnmarshalJSON does.
func (r *jobRecord) UnmarshalJSON(b []byte) error {
	type plain jobRecord
	var doc struct {
		plain
		State stateJSON `json:"state"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	*r = jobRecord(doc.plain)
	r.State, r.Message = doc.State.Type, doc.State.Message
	return nil
}

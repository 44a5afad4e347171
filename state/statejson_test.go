package state

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
)

// The seeds' example documents: a job and an execution as Bacalhau's
// orchestrator API documents them (docs/api/jobs.md of
// bacalhau-project/docs), cut to the parts about state. Their State
// objects are models.State: {StateType, Message, Details}.
const (
	seedJob = `{"ID": "j-d586d2cc-6fc9-42c4-9dd9-a78df1d7cd01", "Name": "A sample job", "Namespace": "default",
		"State": {"StateType": "Completed", "Message": ""}, "Version": 0, "Revision": 2}`
	seedExecution = `{"ID": "e-cdd9fb3e-3183-4069-8bc9-679b6bcce4db", "Namespace": "default",
		"NodeID": "QmYgxZiySj3MRkwLSL4X2MF5F9f2PMhAE3LV49XkfNL1o3", "JobID": "j-412c34b4-da77-4a46-886c-76e03615a04e",
		"DesiredState": {"StateType": 2, "Message": "execution completed"},
		"ComputeState": {"StateType": 7, "Message": ""}, "Revision": 6}`
)

// seedStateKeys are the fields of the seeds' State structure.
var seedStateKeys = []string{"StateType", "Message", "Details"}

// snake spells a seed's field name as muster does: StateType is state_type.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if unicode.IsUpper(r) {
			if i > 0 {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// object decodes the JSON object at path (keys joined by ".") of doc.
func object(t *testing.T, doc []byte, path string) map[string]any {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %s is not an object in %s", path, k, doc)
		}
		v = m[k]
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %v, not an object, in %s", path, v, doc)
	}
	return m
}

// checkStateShape checks that the muster state object got has the seeds'
// structure: every key is one of the State fields in snake case, as are
// the keys of the seed's own object, and the state type is there.
func checkStateShape(t *testing.T, what string, got, seed map[string]any) {
	t.Helper()
	allowed := map[string]bool{}
	for _, k := range seedStateKeys {
		allowed[snake(k)] = true
	}
	for k := range seed {
		if !allowed[snake(k)] {
			t.Errorf("%s: the seed's state has %q, not a field of its State structure", what, k)
		}
	}
	for k := range got {
		if !allowed[k] {
			t.Errorf("%s: key %q is not one of the seeds' state fields %v in snake case", what, k, seedStateKeys)
		}
	}
	if _, ok := got["state_type"]; !ok {
		t.Errorf("%s: no state_type in %v", what, got)
	}
}

func TestStateJSONFollowsSeeds(t *testing.T) {
	x := Execution{ID: "x1", JobID: "default/web", Namespace: "default", NodeID: "n1", JobVersion: 2,
		Status: ExecutionStatus{ComputeState: ComputeFailed, DesiredState: DesiredStopped, Message: "exited with code 3"}}
	xb, err := json.Marshal(x)
	if err != nil {
		t.Fatal(err)
	}
	compute := object(t, xb, "status.compute_state")
	checkStateShape(t, "execution status.compute_state", compute, object(t, []byte(seedExecution), "ComputeState"))
	desired := object(t, xb, "status.desired_state")
	checkStateShape(t, "execution status.desired_state", desired, object(t, []byte(seedExecution), "DesiredState"))
	if compute["state_type"] != "failed" || compute["message"] != "exited with code 3" || desired["state_type"] != "stopped" {
		t.Errorf("execution status: %s", xb)
	}

	j := JobStatus{Namespace: "default", Name: "web", Version: 3, Hash: "sha256:ab", Revision: 7,
		State: StateRolloutFailed, Message: "version 3 failed", UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	jb, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	st := object(t, jb, "state")
	checkStateShape(t, "job status.state", st, object(t, []byte(seedJob), "State"))
	if st["state_type"] != "rollout_failed" || st["message"] != "version 3 failed" {
		t.Errorf("job status: %s", jb)
	}
	if strings.Contains(string(jb), `"message":"version 3 failed","updated_at"`) || strings.Count(string(jb), "version 3 failed") != 1 {
		t.Errorf("the message belongs in the state object only: %s", jb)
	}
}

// filled fails unless every exported field of v holds a non-zero value,
// so that a field added to the type later is added to the round trips.
func filled(t *testing.T, v any) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		if f := rv.Type().Field(i); f.IsExported() && rv.Field(i).IsZero() {
			t.Errorf("%T.%s is zero in the round trip: give it a value (and its JSON form in statejson.go)", v, f.Name)
		}
	}
}

func TestStateJSONRoundTrip(t *testing.T) {
	j := JobStatus{Namespace: "ns", Name: "web", Version: 3, Hash: "sha256:ab", Revision: 7,
		State: StateDegraded, Message: "1 of 2 running", UpdatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)}
	filled(t, j)
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var back JobStatus
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, j) {
		t.Errorf("job status round trip:\n got %+v\nwant %+v\nJSON %s", back, j, b)
	}

	s := ExecutionStatus{ComputeState: ComputeLost, DesiredState: DesiredRunning, Message: "node n1 went away"}
	filled(t, s)
	b, err = json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var sback ExecutionStatus
	if err := json.Unmarshal(b, &sback); err != nil {
		t.Fatal(err)
	}
	if sback != s {
		t.Errorf("execution status round trip: got %+v, want %+v (%s)", sback, s, b)
	}
}

// Records written before the state objects hold bare strings and a
// top-level message: they still load.
func TestStateJSONReadsOlderRecords(t *testing.T) {
	var s ExecutionStatus
	if err := json.Unmarshal([]byte(`{"compute_state":"failed","desired_state":"stopped","message":"exited with code 1"}`), &s); err != nil {
		t.Fatal(err)
	}
	if want := (ExecutionStatus{ComputeState: ComputeFailed, DesiredState: DesiredStopped, Message: "exited with code 1"}); s != want {
		t.Errorf("old execution status: got %+v, want %+v", s, want)
	}
	var x Execution
	if err := json.Unmarshal([]byte(`{"id":"x1","job_id":"default/web","status":{"compute_state":"running","desired_state":"running"},"revision":4}`), &x); err != nil {
		t.Fatal(err)
	}
	if x.Status.ComputeState != ComputeRunning || x.Status.DesiredState != DesiredRunning || x.Revision != 4 {
		t.Errorf("old execution: %+v", x)
	}
	var j JobStatus
	if err := json.Unmarshal([]byte(`{"namespace":"default","name":"web","version":2,"hash":"sha256:ab","revision":5,"state":"running","message":"2 of 2 running","updated_at":"2025-01-02T03:04:05Z"}`), &j); err != nil {
		t.Fatal(err)
	}
	if j.State != StateRunning || j.Message != "2 of 2 running" || j.Version != 2 || j.Revision != 5 || j.UpdatedAt.IsZero() {
		t.Errorf("old job status: %+v", j)
	}
}

func TestStateJSONRefusesOtherShapes(t *testing.T) {
	for _, doc := range []string{`{"compute_state":3}`, `{"compute_state":["running"]}`, `{"desired_state":{"state_type":1}}`} {
		var s ExecutionStatus
		if err := json.Unmarshal([]byte(doc), &s); err == nil {
			t.Errorf("%s: decoded as %+v, want an error", doc, s)
		}
	}
	var j JobStatus
	if err := json.Unmarshal([]byte(`{"state":true}`), &j); err == nil {
		t.Errorf("a bool state decoded as %+v", j)
	}
	// Details are read and ignored: muster keeps none yet.
	var s ExecutionStatus
	if err := json.Unmarshal([]byte(`{"compute_state":{"state_type":"complete","details":{"exit_code":"0"}}}`), &s); err != nil || s.ComputeState != ComputeComplete {
		t.Errorf("details: %+v %v", s, err)
	}
}

package api

import (
	"bufio"
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/muster-dev/muster/state"
)

// fullEvent is a stored event with every field set.
func fullEvent() state.Event {
	return state.Event{
		Time: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC), Job: "default/web", Version: 3, Kind: "execution",
		Wave: 1, Node: "n1", Execution: "e1", State: string(state.ComputeRunning), Message: "1 of 2 checks passed",
		Health: &state.HealthProgress{Passed: 1, SuccessThreshold: 2, RanSeconds: 1.5, MinHealthySeconds: 30},
	}
}

// sameFields fails unless wire and stored have the same fields, in the
// same order, of the same kinds, with the same JSON tags, looking into
// nested structs: a field added to one and not the other would change
// what the API sends.
func sameFields(t *testing.T, wire, stored reflect.Type) {
	t.Helper()
	if wire.NumField() != stored.NumField() {
		t.Fatalf("%s has %d fields, %s %d", wire, wire.NumField(), stored, stored.NumField())
	}
	for i := range wire.NumField() {
		w, s := wire.Field(i), stored.Field(i)
		if w.Name != s.Name || w.Tag.Get("json") != s.Tag.Get("json") || w.Type.Kind() != s.Type.Kind() {
			t.Errorf("field %d: %s %s `json:%q` on the wire, %s %s `json:%q` stored", i, w.Name, w.Type, w.Tag.Get("json"), s.Name, s.Type, s.Tag.Get("json"))
			continue
		}
		wt, st := w.Type, s.Type
		if wt.Kind() == reflect.Pointer {
			wt, st = wt.Elem(), st.Elem()
		}
		switch {
		case wt.Kind() == reflect.Struct && wt.PkgPath() != "time":
			sameFields(t, wt, st)
		case wt.Kind() == reflect.String && st.Kind() == reflect.String:
			// The wire keeps plain strings where the store has a named
			// string type (a state, a kind): the JSON is the same.
		case wt != st:
			t.Errorf("field %s: %s on the wire, %s stored", w.Name, w.Type, s.Type)
		}
	}
}

// TestEventWireFields: the API's event has, field by field, the names,
// types and JSON tags of the stored event, health included.
func TestEventWireFields(t *testing.T) {
	sameFields(t, reflect.TypeFor[Event](), reflect.TypeFor[state.Event]())
}

// TestEventJSONUnchanged: an event's JSON through the API's type is the
// JSON of the stored event, byte for byte, with the field names
// docs/api.md gives; and the conversions lose nothing.
func TestEventJSONUnchanged(t *testing.T) {
	tests := []struct {
		name string
		ev   state.Event
		want string
	}{
		{"every field", fullEvent(), `{"time":"2025-01-02T03:04:05.000000006Z","job":"default/web","version":3,"kind":"execution","wave":1,` +
			`"node":"n1","execution":"e1","state":"running","message":"1 of 2 checks passed",` +
			`"health":{"passed":1,"success_threshold":2,"ran_seconds":1.5,"min_healthy_seconds":30}}`},
		{"zero", state.Event{}, `{"time":"0001-01-01T00:00:00Z","job":"","version":0,"kind":"","wave":0}`},
		{"node event", state.Event{Time: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Kind: "node", Node: "edge-1", State: "down"},
			`{"time":"2025-01-02T03:04:05Z","job":"","version":0,"kind":"node","wave":0,"node":"edge-1","state":"down"}`},
		{"zero health", state.Event{Job: "a/b", Kind: "execution", Health: &state.HealthProgress{}},
			`{"time":"0001-01-01T00:00:00Z","job":"a/b","version":0,"kind":"execution","wave":0,"health":{"passed":0,"success_threshold":0,"ran_seconds":0,"min_healthy_seconds":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stored, err := json.Marshal(tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			wire, err := json.Marshal(EventFromState(tt.ev))
			if err != nil {
				t.Fatal(err)
			}
			if string(wire) != tt.want || string(stored) != tt.want {
				t.Errorf("on the wire:\n%s\nstored:\n%s\nwant:\n%s", wire, stored, tt.want)
			}
			var back Event
			if err := json.Unmarshal([]byte(tt.want), &back); err != nil {
				t.Fatal(err)
			}
			if got := back.ToState(); !reflect.DeepEqual(got, tt.ev) {
				t.Errorf("read back: %+v, want %+v", got, tt.ev)
			}
			if got := EventFromState(tt.ev).ToState(); !reflect.DeepEqual(got, tt.ev) {
				t.Errorf("converted there and back: %+v, want %+v", got, tt.ev)
			}
		})
	}
}

// TestEventsOnTheWire: a line of GET /v1/events and an element of GET
// /v1/jobs/{ns}/{name}/events are the stored event's JSON, and the client
// reads back the event it was.
func TestEventsOnTheWire(t *testing.T) {
	h := newHarness(t, "", nil)
	ctx := ctxT(t)
	commit(t, h.client, "web", 1, 0)
	ev := fullEvent()
	want, _ := json.Marshal(ev)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/v1/events?name=web", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	h.ctl.emit("default", "web", EventFromState(ev))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	if line != string(want)+"\n" {
		t.Errorf("streamed line:\n%s\nwant:\n%s", line, want)
	}

	if err := h.store.AppendEvent(ctx, ev); err != nil {
		t.Fatal(err)
	}
	code, _, body := h.raw(t, http.MethodGet, "/v1/jobs/default/web/events", "", "")
	var listed []json.RawMessage
	if err := json.Unmarshal([]byte(body), &listed); err != nil || code != http.StatusOK {
		t.Fatalf("%d %s: %v", code, body, err)
	}
	if len(listed) != 1 || string(listed[0]) != string(want) {
		t.Errorf("stored events on the wire: %s, want [%s]", body, want)
	}
	got, err := h.client.JobEvents(ctx, "default", "web", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !reflect.DeepEqual(got[0], ev) {
		t.Errorf("client read %+v, want %+v", got, ev)
	}
	if code, _, body := h.raw(t, http.MethodGet, "/v1/jobs/default/api/events", "", ""); code != http.StatusOK || body != "[]\n" {
		t.Errorf("no events: %d %q, want []", code, body)
	}
}

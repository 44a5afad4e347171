package cluster

import (
	"reflect"
	"testing"
)

// ex is an execution with previous execution prev, running or not.
func ex(id, prev string, running bool) Execution {
	x := Execution{ID: id, Previous: prev}
	x.Status.ComputeState = "stopped"
	if running {
		x.Status.ComputeState = "running"
	}
	return x
}

func TestDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name string
		xs   []Execution
		want map[string][]string
	}{
		{"none running", []Execution{ex("a", "", false)}, map[string][]string{}},
		{"one per slot", []Execution{ex("a", "", true), ex("b", "", true)}, map[string][]string{}},
		{"replaced and stopped", []Execution{ex("a", "", false), ex("a2", "a", true)}, map[string][]string{}},
		{"replacement beside the original", []Execution{ex("a", "", true), ex("a2", "a", true)}, map[string][]string{"a": {"a", "a2"}}},
		{"two generations on", []Execution{ex("a", "", true), ex("a2", "a", false), ex("a3", "a2", true)}, map[string][]string{"a": {"a", "a3"}}},
		{"previous no longer listed", []Execution{ex("a2", "gone", true), ex("a3", "a2", true)}, map[string][]string{"a2": {"a2", "a3"}}},
		{"a cycle ends", []Execution{ex("a", "b", true), ex("b", "a", false)}, map[string][]string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Duplicates(tc.xs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Duplicates = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRolling(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    Count
		want int
	}{
		{"one a node", Count{Running: 3, ByNode: map[string]int{"a1": 1, "a2": 1, "a3": 1}}, 4},
		{"two on one node", Count{Running: 3, ByNode: map[string]int{"a1": 2, "a2": 1}}, 5},
		{"nothing running", Count{}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rolling(tc.n); got != tc.want {
				t.Errorf("rolling = %d, want %d", got, tc.want)
			}
		})
	}
}

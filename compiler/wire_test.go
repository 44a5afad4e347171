package compiler

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-dev/muster/lang"
)

// TestWireCarriesEveryField fails when a type the worker protocol carries
// gains a field: wire.go must then write and read it too.
func TestWireCarriesEveryField(t *testing.T) {
	carried := map[reflect.Type][]string{
		reflect.TypeFor[lang.Value]():      {"Kind", "Range", "Sensitive", "Bool", "Number", "Str", "List", "Fields"},
		reflect.TypeFor[lang.Field]():      {"Key", "KeyRange", "Value"},
		reflect.TypeFor[lang.Range]():      {"Filename", "Start", "End"},
		reflect.TypeFor[lang.Pos]():        {"Line", "Column", "Byte"},
		reflect.TypeFor[lang.Diagnostic](): {"Severity", "Range", "Path", "Message"},
		reflect.TypeFor[lang.Options]():    {"Env", "VarFiles", "Vars"},
		reflect.TypeFor[Limits]():          {"Time", "Memory"},
		reflect.TypeFor[request]():         {"Format", "File", "Src", "Opts", "Limits"},
		reflect.TypeFor[response]():        {"Trees", "Diags"},
	}
	for typ, fields := range carried {
		var got []string
		for i := range typ.NumField() {
			got = append(got, typ.Field(i).Name)
		}
		if !slices.Equal(got, fields) {
			t.Errorf("%v has the fields %v; wire.go carries %v: update it", typ, got, fields)
		}
	}
}

// TestWireRoundTrip writes and reads a request and a response holding
// every kind of value, nil elements, empty and nil lists, and text that
// is not UTF-8.
func TestWireRoundTrip(t *testing.T) {
	r := func(l int) lang.Range {
		return lang.Range{Filename: "job.cue", Start: lang.Pos{Line: l, Column: 2, Byte: 30}, End: lang.Pos{Line: l, Column: 9, Byte: 37}}
	}
	tree := &lang.Value{Kind: lang.Map, Range: r(1), Fields: []*lang.Field{
		{Key: "name", KeyRange: r(2), Value: &lang.Value{Kind: lang.String, Str: "web\x00\xff", Range: r(2), Sensitive: true}},
		{Key: "count", Value: &lang.Value{Kind: lang.Number, Number: "-1e300"}},
		{Key: "on", Value: &lang.Value{Kind: lang.Bool, Bool: true}},
		{Key: "none", Value: &lang.Value{Kind: lang.Null}},
		{Key: "absent", Value: nil},
		nil,
		{Key: "empty", Value: &lang.Value{Kind: lang.List, List: []*lang.Value{}}},
		{Key: "list", Value: &lang.Value{Kind: lang.List, List: []*lang.Value{nil, {Kind: lang.Number, Number: "1"}}}},
	}}
	resp := &response{
		Trees: []*lang.Value{tree, nil, {Kind: lang.Map, Fields: []*lang.Field{}}},
		Diags: lang.Diagnostics{{Severity: lang.Error, Range: r(3), Path: "task.cmd[0]", Message: "bad"}, {Severity: lang.Warning, Message: "é"}},
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := writeResponse(w, resp); err != nil {
		t.Fatal(err)
	}
	got, err := readResponse(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, resp) {
		t.Errorf("response changed on the way:\n%#v\nwant\n%#v", got, resp)
	}
	if got, err := readResponse(bufio.NewReader(&bytes.Buffer{})); err == nil {
		t.Errorf("an empty stream reads as %v", got)
	}

	q := &request{Format: CUE, File: "a/b.cue", Src: []byte("name: \"x\"\n"), Limits: Limits{Time: 3 * time.Second, Memory: 5 << 20},
		Opts: lang.Options{Env: map[string]string{"a": "1"}, VarFiles: []string{"v.hcl", "w.json"}, Vars: map[string]string{"b": "", "c": "x=y"}}}
	buf.Reset()
	encodeRequest(w, q)
	w.Flush()
	gotQ, err := readRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotQ, q) {
		t.Errorf("request changed on the way:\n%#v\nwant\n%#v", gotQ, q)
	}
}

// TestWireBudgets stops reading an answer past maxWireValues values or
// maxWireText bytes of text, and refuses nesting past maxWireDepth.
func TestWireBudgets(t *testing.T) {
	many := &lang.Value{Kind: lang.List}
	for range maxWireValues {
		many.List = append(many.List, &lang.Value{Kind: lang.Null})
	}
	text := &lang.Value{Kind: lang.List}
	for range 65 {
		text.List = append(text.List, &lang.Value{Kind: lang.String, Str: strings.Repeat("x", 1<<20)})
	}
	deep := &lang.Value{Kind: lang.List}
	for range maxWireDepth + 2 {
		deep = &lang.Value{Kind: lang.List, List: []*lang.Value{deep}}
	}
	for name, v := range map[string]*lang.Value{"values": many, "text": text, "depth": deep} {
		var buf bytes.Buffer
		w := bufio.NewWriter(&buf)
		if err := writeResponse(w, &response{Trees: []*lang.Value{v}}); err != nil {
			t.Fatal(err)
		}
		_, err := readResponse(bufio.NewReader(&buf))
		if err == nil {
			t.Errorf("%s: read without error", name)
		} else if name != "depth" && !errors.Is(err, errWireBudget) {
			t.Errorf("%s: %v, want the budget error", name, err)
		}
	}
}

package gendocs

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v4"

	"github.com/muster-dev/muster/schema"
)

const docFile = "../../docs/jobspec.md"

// TestJobspecUpToDate fails when the generated part of docs/jobspec.md
// differs from Reference. MUSTER_UPDATE=1 rewrites it.
func TestJobspecUpToDate(t *testing.T) {
	doc, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Splice(doc, Reference())
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("MUSTER_UPDATE") != "" {
		if err := os.WriteFile(docFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(got, doc) {
		t.Error("docs/jobspec.md is out of date: regenerate it with MUSTER_UPDATE=1 go test ./internal/gendocs/")
	}
}

func TestReferenceNamesEveryField(t *testing.T) {
	ref := string(Reference())
	for _, f := range schema.Fields {
		if !strings.Contains(ref, "| `"+f.Path+"` |") {
			t.Errorf("%s has no row", f.Path)
		}
	}
}

func TestSplice(t *testing.T) {
	doc := "# T\n\n" + Begin + "\nold\n" + End + "\n\ntail\n"
	got, err := Splice([]byte(doc), []byte("new\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "# T\n\n" + Begin + "\n\nnew\n\n" + End + "\n\ntail\n"; string(got) != want {
		t.Errorf("Splice = %q, want %q", got, want)
	}
	if again, _ := Splice(got, []byte("new\n")); !bytes.Equal(again, got) {
		t.Error("Splice is not idempotent")
	}
	if _, err := Splice([]byte("no markers"), nil); err == nil {
		t.Error("Splice accepted a document without markers")
	}
}

// fence matches a fenced code block and its language.
var fence = regexp.MustCompile("(?ms)^```(yaml|json)\n(.*?)^```\n")

// TestExamplesValidate checks every YAML document and JSON value of the
// reference that holds a task (a job, or an array of jobs) against the
// published JSON Schema, item by item for arrays.
func TestExamplesValidate(t *testing.T) {
	doc, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	sd, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(schema.JSONSchemaID, sd); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schema.JSONSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range fence.FindAllStringSubmatch(string(doc), -1) {
		var values []any
		if m[1] == "json" {
			var v any
			if err := json.Unmarshal([]byte(m[2]), &v); err != nil {
				continue // a fragment, not a file
			}
			values = append(values, v)
		} else {
			dec := yaml.NewDecoder(strings.NewReader(m[2]))
			for {
				var v any
				if err := dec.Decode(&v); err != nil {
					break
				}
				values = append(values, v)
			}
		}
		for _, v := range values {
			jobs := []any{v}
			if list, ok := v.([]any); ok {
				jobs = list
			}
			for _, j := range jobs {
				if obj, ok := j.(map[string]any); !ok || obj["task"] == nil {
					continue
				}
				b, _ := json.Marshal(j)
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				if err := sch.Validate(inst); err != nil {
					t.Errorf("example does not validate: %v\n%s", err, m[2])
				}
				n++
			}
		}
	}
	if n < 3 {
		t.Errorf("found %d example jobs, want at least 3", n)
	}
}

// TestCanonicalExample checks the canonical bytes and the hash the reference
// shows for its hello job.
func TestCanonicalExample(t *testing.T) {
	doc, err := os.ReadFile(docFile)
	if err != nil {
		t.Fatal(err)
	}
	j := schema.NewJob()
	j.Name = "hello"
	j.Task.Engine = schema.Exec
	j.Task.Cmd = []string{"echo", "hello"}
	schema.Normalize(&j)
	for _, want := range []string{"\n" + string(j.Canonical()) + "\n", "\n" + j.Hash() + "  default/hello\n"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("docs/jobspec.md does not show %s", want)
		}
	}
}

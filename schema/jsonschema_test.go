package schema_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/muster-dev/muster/schema"
)

// schemaFile is the checked-in copy of schema.JSONSchema().
const schemaFile = "muster.schema.json"

// TestJSONSchemaUpToDate fails when muster.schema.json differs from what
// JSONSchema generates. MUSTER_UPDATE=1 rewrites it.
func TestJSONSchemaUpToDate(t *testing.T) {
	got := schema.JSONSchema()
	if !bytes.Equal(got, schema.JSONSchema()) {
		t.Fatal("JSONSchema is not deterministic")
	}
	if os.Getenv("MUSTER_UPDATE") != "" {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schema/%s is out of date: regenerate it with MUSTER_UPDATE=1 go test ./schema/", schemaFile)
	}
}

// compileSchema compiles the generated schema; the compiler also checks it
// against the draft 2020-12 meta-schema.
func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schema.JSONSchemaID, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schema.JSONSchemaID)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func validate(t *testing.T, sch *jsonschema.Schema, doc []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("bad test document %s: %v", doc, err)
	}
	return sch.Validate(v)
}

// locations lists the instance locations of every error in the tree of err,
// as JSON pointers.
func locations(err error) []string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return nil
	}
	var out []string
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		out = append(out, "/"+strings.Join(e.InstanceLocation, "/"))
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// schemaCases are job documents and whether the schema accepts them.
var schemaCases = []struct {
	name string
	doc  string
	// at is "" for a valid document. For an invalid one it is the JSON
	// pointer an error must point at, or "key:K" when the key K of a map is
	// invalid (the validator reports such keys at unreliable locations).
	at string
}{
	// Valid documents.
	{"docker minimal", `{"name":"web","task":{"engine":"docker","image":"nginx:1.27"}}`, ""},
	{"exec minimal", `{"name":"backup","task":{"engine":"exec","cmd":["/usr/bin/backup","--all"]}}`, ""},
	{"wasm path", `{"name":"w","task":{"engine":"wasm","image":"/opt/hello.wasm"}}`, ""},
	{"wasm url", `{"name":"w","task":{"engine":"wasm","image":"https://example.com/hello.wasm","cmd":["--x"]}}`, ""},
	{"wasm document", `{"name":"w","task":{"engine":"wasm","image":"sha256:` + hex64 + `"}}`, ""},
	{"api_version written", `{"api_version":"muster/v1","name":"web","task":{"engine":"docker","image":"nginx"}}`, ""},
	{"ops without count", `{"name":"o","type":"ops","task":{"engine":"exec","cmd":["true"]}}`, ""},
	{"daemon rolling", `{"name":"d","type":"daemon","restart_policy":"always","task":{"engine":"exec","cmd":["agent"]},"rollout":{"strategy":"rolling","max_parallel":25}}`, ""},
	{"canary percent", `{"name":"c","type":"service","count":4,"task":{"engine":"docker","image":"app"},"rollout":{"strategy":"canary","canary_percent":20,"auto_promote":true}}`, ""},
	{"canary count", `{"name":"c","type":"service","task":{"engine":"docker","image":"app"},"rollout":{"strategy":"canary","canary_count":2}}`, ""},
	{"canary count with zero percent", `{"name":"c","task":{"engine":"docker","image":"app"},"rollout":{"strategy":"canary","canary_count":2,"canary_percent":0}}`, ""},
	{"canary zero count beside percent", `{"name":"c","task":{"engine":"docker","image":"a"},"rollout":{"strategy":"canary","canary_count":0,"canary_percent":10}}`, ""},
	{"full service", fullService, ""},
	{"cpus millicores and memory Gi", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"cpus":"250m","memory":"2Gi"}}}`, ""},
	{"cpus decimal string", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"cpus":"0.5","memory":"4M"}}}`, ""},
	{"env and meta keys that only look reserved", `{"name":"e","meta":{"muster.devx":"1"},"task":{"engine":"exec","cmd":["x"],"env":{"PATHS":"1","MUSTER":"2","MY_PATH":"3"}}}`, ""},
	{"durations as seconds", `{"name":"t","task":{"engine":"exec","cmd":["x"]},"timeouts":{"execution":90,"queue":"1h30m","total":0}}`, ""},
	{"selector every form", `{"name":"s","task":{"engine":"exec","cmd":["x"]},"selector":{"match_expressions":["region=us","zone==a","tier!=db","region in (us-east, us-west)","disk notin (hdd)","gpu","!spot","k8s.io/arch = amd64"]}}`, ""},
	{"label prefix and empty value", `{"name":"l","labels":{"example.com/team":"","app":"web.v1_2"},"task":{"engine":"exec","cmd":["x"]}}`, ""},
	{"job input", `{"name":"i","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"job:default/build@sha256:` + hex64 + `#/out/app","target":"/in/app"}]}}`, ""},
	{"priority bounds", `{"name":"p","priority":0,"task":{"engine":"exec","cmd":["x"]}}`, ""},
	{"integer written as 1.0", `{"name":"p","count":2.0,"task":{"engine":"exec","cmd":["x"]}}`, ""},
	{"count at 2^53", `{"name":"p","count":9007199254740992,"task":{"engine":"exec","cmd":["x"]}}`, ""},

	// Required fields and unknown fields.
	{"missing name", `{"task":{"engine":"docker","image":"a"}}`, "/"},
	{"missing task", `{"name":"web"}`, "/"},
	{"missing engine", `{"name":"web","task":{"image":"a"}}`, "/task"},
	{"unknown top-level field", `{"name":"web","nmae":"x","task":{"engine":"docker","image":"a"}}`, "/"},
	{"unknown task field", `{"name":"web","task":{"engine":"docker","imag":"a","image":"a"}}`, "/task"},
	{"unknown health_check field", `{"name":"web","task":{"engine":"docker","image":"a"},"rollout":{"health_check":{"timeout":"1s"}}}`, "/rollout/health_check"},
	{"unknown input field", `{"name":"web","task":{"engine":"docker","image":"a","inputs":[{"source":"https://x/y","target":"/y","mode":"0644"}]}}`, "/task/inputs/0"},
	{"a job array is not one job", `[{"name":"web","task":{"engine":"docker","image":"a"}}]`, "/"},

	// Scalars.
	{"name uppercase", `{"name":"Web","task":{"engine":"docker","image":"a"}}`, "/name"},
	{"name too long", `{"name":"` + strings.Repeat("a", 64) + `","task":{"engine":"docker","image":"a"}}`, "/name"},
	{"namespace ends with dash", `{"name":"web","namespace":"team-","task":{"engine":"docker","image":"a"}}`, "/namespace"},
	{"api_version other", `{"api_version":"muster/v2","name":"web","task":{"engine":"docker","image":"a"}}`, "/api_version"},
	{"type unknown", `{"name":"web","type":"cron","task":{"engine":"docker","image":"a"}}`, "/type"},
	{"description too long", `{"name":"web","description":"` + strings.Repeat("x", 1025) + `","task":{"engine":"docker","image":"a"}}`, "/description"},
	{"priority above 100", `{"name":"web","priority":101,"task":{"engine":"docker","image":"a"}}`, "/priority"},
	{"priority fractional", `{"name":"web","priority":1.5,"task":{"engine":"docker","image":"a"}}`, "/priority"},
	{"count zero", `{"name":"web","count":0,"task":{"engine":"docker","image":"a"}}`, "/count"},
	{"count beyond 2^53", `{"name":"web","count":9007199254740994,"task":{"engine":"docker","image":"a"}}`, "/count"},
	{"restart_policy unknown", `{"name":"web","restart_policy":"sometimes","task":{"engine":"docker","image":"a"}}`, "/restart_policy"},
	{"network unknown", `{"name":"web","task":{"engine":"docker","image":"a","network":"overlay"}}`, "/task/network"},

	// Rules that depend on the job type.
	{"count on ops", `{"name":"o","type":"ops","count":2,"task":{"engine":"exec","cmd":["x"]}}`, "/count"},
	{"count on daemon", `{"name":"d","type":"daemon","count":1,"task":{"engine":"exec","cmd":["x"]}}`, "/count"},

	// Rules that depend on the engine.
	{"exec without cmd", `{"name":"e","task":{"engine":"exec"}}`, "/task"},
	{"exec with empty cmd", `{"name":"e","task":{"engine":"exec","cmd":[]}}`, "/task/cmd"},
	{"exec with image", `{"name":"e","task":{"engine":"exec","cmd":["x"],"image":"busybox"}}`, "/task/image"},
	{"exec with entrypoint", `{"name":"e","task":{"engine":"exec","cmd":["x"],"entrypoint":["sh"]}}`, "/task/entrypoint"},
	{"docker without image", `{"name":"d","task":{"engine":"docker","cmd":["x"]}}`, "/task"},
	{"docker with empty image", `{"name":"d","task":{"engine":"docker","image":""}}`, "/task/image"},
	{"wasm without image", `{"name":"w","task":{"engine":"wasm"}}`, "/task"},
	{"wasm relative module", `{"name":"w","task":{"engine":"wasm","image":"hello.wasm"}}`, "/task/image"},
	{"wasm with entrypoint", `{"name":"w","task":{"engine":"wasm","image":"/m.wasm","entrypoint":[]}}`, "/task/entrypoint"},

	// Rules that depend on the strategy.
	{"canary_count with rolling", `{"name":"c","task":{"engine":"docker","image":"a"},"rollout":{"strategy":"rolling","canary_count":1}}`, "/rollout/canary_count"},
	{"canary_percent with default strategy", `{"name":"c","task":{"engine":"docker","image":"a"},"rollout":{"canary_percent":10}}`, "/rollout/canary_percent"},
	{"canary count and percent", `{"name":"c","task":{"engine":"docker","image":"a"},"rollout":{"strategy":"canary","canary_count":1,"canary_percent":10}}`, "/rollout"},
	{"canary count zero alone", `{"name":"c","task":{"engine":"docker","image":"a"},"rollout":{"strategy":"canary","canary_count":0}}`, "/rollout/canary_count"},
	{"canary percent above 100", `{"name":"c","task":{"engine":"docker","image":"a"},"rollout":{"strategy":"canary","canary_percent":101}}`, "/rollout/canary_percent"},
	{"max_parallel zero", `{"name":"r","task":{"engine":"docker","image":"a"},"rollout":{"max_parallel":0}}`, "/rollout/max_parallel"},
	{"max_error_rate above 1", `{"name":"r","task":{"engine":"docker","image":"a"},"rollout":{"health_check":{"max_error_rate":1.5}}}`, "/rollout/health_check/max_error_rate"},
	{"failure_threshold zero", `{"name":"r","task":{"engine":"docker","image":"a"},"rollout":{"health_check":{"failure_threshold":0}}}`, "/rollout/health_check/failure_threshold"},
	{"max_failed_nodes negative", `{"name":"r","task":{"engine":"docker","image":"a"},"rollout":{"max_failed_nodes":-1}}`, "/rollout/max_failed_nodes"},
	{"max_failed_nodes_percent above 100", `{"name":"r","task":{"engine":"docker","image":"a"},"rollout":{"max_failed_nodes_percent":100.5}}`, "/rollout/max_failed_nodes_percent"},
	{"auto_promote string", `{"name":"r","task":{"engine":"docker","image":"a"},"rollout":{"auto_promote":"yes"}}`, "/rollout/auto_promote"},

	// Maps.
	{"env PATH", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"PATH":"/bin"}}}`, "key:PATH"},
	{"env MUSTER_ prefix", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"MUSTER_ROOT":"/"}}}`, "key:MUSTER_ROOT"},
	{"env key with dash", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"MY-VAR":"1"}}}`, "key:MY-VAR"},
	{"env value not a string", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"N":1}}}`, "/task/env/N"},
	{"env path in lower case", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"path":"/bin"}}}`, "key:path"},
	{"env Path", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"Path":"/bin"}}}`, "key:Path"},
	{"env muster_ prefix", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"muster_root":"/"}}}`, "key:muster_root"},
	{"env Muster_ prefix", `{"name":"e","task":{"engine":"exec","cmd":["x"],"env":{"Muster_X":"/"}}}`, "key:Muster_X"},
	{"meta reserved prefix", `{"name":"m","meta":{"muster.dev/owner":"x"},"task":{"engine":"exec","cmd":["x"]}}`, "key:muster.dev/owner"},
	{"meta reserved prefix in another case", `{"name":"m","meta":{"Muster.DEV/owner":"x"},"task":{"engine":"exec","cmd":["x"]}}`, "key:Muster.DEV/owner"},
	{"label key starts with dash", `{"name":"l","labels":{"-app":"x"},"task":{"engine":"exec","cmd":["x"]}}`, "key:-app"},
	{"label value with space", `{"name":"l","labels":{"app":"my app"},"task":{"engine":"exec","cmd":["x"]}}`, "/labels/app"},
	{"match_labels uppercase prefix", `{"name":"l","selector":{"match_labels":{"Example.com/x":"y"}},"task":{"engine":"exec","cmd":["x"]}}`, "key:Example.com/x"},
	{"match_expression empty set", `{"name":"s","selector":{"match_expressions":["region in ()"]},"task":{"engine":"exec","cmd":["x"]}}`, "/selector/match_expressions/0"},
	{"match_expression bad operator", `{"name":"s","selector":{"match_expressions":["region ~ us"]},"task":{"engine":"exec","cmd":["x"]}}`, "/selector/match_expressions/0"},

	// Resources and durations.
	{"cpus zero", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"cpus":0}}}`, "/task/resources/cpus"},
	{"cpus above 1024", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"cpus":2048}}}`, "/task/resources/cpus"},
	{"cpus zero millicores", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"cpus":"0m"}}}`, "/task/resources/cpus"},
	{"cpus word", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"cpus":"two"}}}`, "/task/resources/cpus"},
	{"memory below 4M", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"memory":"2M"}}}`, "/task/resources/memory"},
	{"memory in K", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"memory":"1024K"}}}`, "/task/resources/memory"},
	{"memory as a number", `{"name":"r","task":{"engine":"docker","image":"a","resources":{"memory":256}}}`, "/task/resources/memory"},
	{"negative duration", `{"name":"t","task":{"engine":"exec","cmd":["x"]},"timeouts":{"total":"-5s"}}`, "/timeouts/total"},
	{"duration in words", `{"name":"t","task":{"engine":"exec","cmd":["x"]},"timeouts":{"queue":"5 minutes"}}`, "/timeouts/queue"},
	{"negative duration seconds", `{"name":"t","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"deadline":-1}}}`, "/rollout/health_check/deadline"},
	{"fractional duration seconds", `{"name":"t","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"interval":1.5}}}`, "/rollout/health_check/interval"},

	// Paths, inputs and outputs.
	{"workdir relative", `{"name":"w","task":{"engine":"exec","cmd":["x"],"workdir":"tmp"}}`, "/task/workdir"},
	{"workdir not clean", `{"name":"w","task":{"engine":"exec","cmd":["x"],"workdir":"/a/../b"}}`, "/task/workdir"},
	{"input target relative", `{"name":"i","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"https://x/y","target":"y"}]}}`, "/task/inputs/0/target"},
	{"input target with ..", `{"name":"i","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"https://x/y","target":"/a/.."}]}}`, "/task/inputs/0/target"},
	{"input without target", `{"name":"i","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"https://x/y"}]}}`, "/task/inputs/0"},
	{"input source scheme", `{"name":"i","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"ftp://x/y","target":"/y"}]}}`, "/task/inputs/0/source"},
	{"input short document hash", `{"name":"i","task":{"engine":"exec","cmd":["x"],"inputs":[{"source":"sha256:abc","target":"/y"}]}}`, "/task/inputs/0/source"},
	{"output trailing slash", `{"name":"o","task":{"engine":"exec","cmd":["x"],"outputs":[{"path":"/out/"}]}}`, "/task/outputs/0/path"},
	{"output as a string", `{"name":"o","task":{"engine":"exec","cmd":["x"],"outputs":["/out"]}}`, "/task/outputs/0"},

	// Ports and probes (added after v1).
	{"service ports and http probe", `{"name":"s","type":"service","task":{"engine":"docker","image":"a","network":"bridge","ports":[{"name":"http","to":8080},{"name":"admin","port":9000}]},` +
		`"rollout":{"health_check":{"probe":{"http":{"port":"http","path":"/healthz?full=1","status":[200,204]},"timeout":"1s"}}}}`, ""},
	{"daemon host ports and tcp probe", `{"name":"d","type":"daemon","task":{"engine":"docker","image":"a","network":"host","ports":[{"name":"dns","port":53}]},` +
		`"rollout":{"health_check":{"probe":{"tcp":{}}}}}`, ""},
	{"exec ports and exec probe", `{"name":"e","type":"service","task":{"engine":"exec","cmd":["x"],"ports":[{"name":"http","port":0}]},` +
		`"rollout":{"health_check":{"probe":{"exec":{"cmd":["/bin/check"]},"timeout":5}}}}`, ""},
	{"empty ports on docker none", `{"name":"e","type":"service","task":{"engine":"docker","image":"a","ports":[]}}`, ""},
	{"ports on batch", `{"name":"b","task":{"engine":"exec","cmd":["x"],"ports":[{"name":"http"}]}}`, "/task/ports"},
	{"ports on ops", `{"name":"o","type":"ops","task":{"engine":"exec","cmd":["x"],"ports":[]}}`, "/task/ports"},
	{"ports on wasm", `{"name":"w","type":"service","task":{"engine":"wasm","image":"/m.wasm","ports":[{"name":"http"}]}}`, "/task/ports"},
	{"ports on docker none", `{"name":"d","type":"service","task":{"engine":"docker","image":"a","ports":[{"name":"http"}]}}`, "/task/ports"},
	{"to on docker host", `{"name":"d","type":"service","task":{"engine":"docker","image":"a","network":"host","ports":[{"name":"http","to":80}]}}`, "/task/ports/0/to"},
	{"to on exec", `{"name":"d","type":"service","task":{"engine":"exec","cmd":["x"],"ports":[{"name":"http","to":80}]}}`, "/task/ports/0/to"},
	{"port name uppercase", `{"name":"d","type":"service","task":{"engine":"exec","cmd":["x"],"ports":[{"name":"HTTP"}]}}`, "/task/ports/0/name"},
	{"port name too long", `{"name":"d","type":"service","task":{"engine":"exec","cmd":["x"],"ports":[{"name":"` + strings.Repeat("p", 32) + `"}]}}`, "/task/ports/0/name"},
	{"port without name", `{"name":"d","type":"service","task":{"engine":"exec","cmd":["x"],"ports":[{"port":80}]}}`, "/task/ports/0"},
	{"port beyond 65535", `{"name":"d","type":"service","task":{"engine":"exec","cmd":["x"],"ports":[{"name":"a","port":65536}]}}`, "/task/ports/0/port"},
	{"to zero", `{"name":"d","type":"service","task":{"engine":"docker","image":"a","network":"bridge","ports":[{"name":"a","to":0}]}}`, "/task/ports/0/to"},
	{"probe on batch", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"exec":{"cmd":["x"]}}}}}`, "/rollout/health_check/probe"},
	{"probe of two kinds", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"exec":{"cmd":["x"]},"tcp":{"port":"a"}}}}}`, "/rollout/health_check/probe"},
	{"probe of no kind", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"timeout":"1s"}}}}`, "/rollout/health_check/probe"},
	{"exec probe on wasm", `{"name":"s","type":"service","task":{"engine":"wasm","image":"/m.wasm"},"rollout":{"health_check":{"probe":{"exec":{"cmd":["x"]}}}}}`, "/rollout/health_check/probe/exec"},
	{"exec probe without cmd", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"exec":{"cmd":[]}}}}}`, "/rollout/health_check/probe/exec/cmd"},
	{"http probe path relative", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"http":{"path":"healthz"}}}}}`, "/rollout/health_check/probe/http/path"},
	{"http probe path a URL", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"http":{"path":"http://x/healthz"}}}}}`, "/rollout/health_check/probe/http/path"},
	{"http probe path with a host", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"http":{"path":"//x/healthz"}}}}}`, "/rollout/health_check/probe/http/path"},
	{"http probe path with a space", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"http":{"path":"/a b"}}}}}`, "/rollout/health_check/probe/http/path"},
	{"http probe status 600", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"http":{"status":[200,600]}}}}}`, "/rollout/health_check/probe/http/status/1"},
	{"unknown probe field", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"grpc":{}}}}}`, "/rollout/health_check/probe"},
	{"probe timeout in words", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"rollout":{"health_check":{"probe":{"tcp":{},"timeout":"two seconds"}}}}`, "/rollout/health_check/probe/timeout"},

	// Schedules (added after v1).
	{"batch schedule", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"15 3 * * *","time_zone":"Europe/Berlin","prohibit_overlap":false}}`, ""},
	{"ops schedule of a descriptor", `{"name":"o","type":"ops","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@Daily"}}`, ""},
	{"schedule with names and spaces", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"  */20  0-6,22 ? JAN-mar mon-fri ","time_zone":"America/Argentina/Buenos_Aires"}}`, ""},
	{"schedule zone with a sign", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"0 * * * *","time_zone":"Etc/GMT+5"}}`, ""},
	{"schedule on service", `{"name":"s","type":"service","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"15 3 * * *"}}`, "/schedule"},
	{"schedule on daemon", `{"name":"d","type":"daemon","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"15 3 * * *"}}`, "/schedule"},
	{"schedule without cron", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"time_zone":"UTC"}}`, "/schedule"},
	{"schedule cron of six fields", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"0 15 3 * * *"}}`, "/schedule/cron"},
	{"schedule cron of four fields", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"15 3 * *"}}`, "/schedule/cron"},
	{"schedule @every", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@every 5m"}}`, "/schedule/cron"},
	{"schedule TZ= prefix", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"TZ=UTC 15 3 * * *"}}`, "/schedule/cron"},
	{"schedule empty cron", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":""}}`, "/schedule/cron"},
	{"schedule zone with a space", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@daily","time_zone":"Europe/ Berlin"}}`, "/schedule/time_zone"},
	{"schedule zone as a path", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@daily","time_zone":"/usr/share/zoneinfo/UTC"}}`, "/schedule/time_zone"},
	{"schedule empty zone", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@daily","time_zone":""}}`, "/schedule/time_zone"},
	{"schedule prohibit_overlap as a string", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@daily","prohibit_overlap":"yes"}}`, "/schedule/prohibit_overlap"},
	{"unknown schedule field", `{"name":"b","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@daily","timezone":"UTC"}}`, "/schedule"},
}

const hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

const fullService = `{
  "name": "web", "namespace": "shop", "type": "service", "description": "The storefront.",
  "labels": {"app": "web", "example.com/tier": "frontend"}, "meta": {"owner": "team-a"},
  "priority": 70, "count": 3, "restart_policy": "always",
  "selector": {"match_labels": {"region": "eu"}, "match_expressions": ["disk in (ssd)"], "match_ids": ["node-a"]},
  "task": {
    "engine": "docker", "image": "registry.local/web:1.2", "entrypoint": ["/bin/web"], "cmd": ["--port", "8080"],
    "env": {"LOG_LEVEL": "info", "_X": "1"}, "workdir": "/srv", "network": "bridge",
    "resources": {"cpus": 1.5, "memory": "512Mi"},
    "inputs": [{"source": "file:///etc/web/config.yaml", "target": "/etc/web/config.yaml"},
               {"source": "sha256:` + hex64 + `", "target": "/data/seed"}],
    "outputs": [{"path": "/var/log/web.log"}]
  },
  "rollout": {
    "strategy": "rolling", "max_parallel": 34, "auto_promote": false,
    "health_check": {"deadline": "10m", "min_healthy_time": "1m", "interval": 5, "failure_threshold": 2,
                     "success_threshold": 1, "max_error_rate": 0.05},
    "max_failed_nodes": 1, "max_failed_nodes_percent": 12.5, "no_auto_rollback": true
  },
  "timeouts": {"execution": "0s", "queue": "15m", "total": "1h0m0s"}
}`

func TestJSONSchemaCases(t *testing.T) {
	sch := compileSchema(t)
	for _, c := range schemaCases {
		err := validate(t, sch, []byte(c.doc))
		switch {
		case c.at == "" && err != nil:
			t.Errorf("%s: want valid, got %v", c.name, err)
		case c.at != "" && err == nil:
			t.Errorf("%s: want an error at %s, the schema accepts it", c.name, c.at)
		case strings.HasPrefix(c.at, "key:"):
			if !strings.Contains(err.Error(), "invalid propertyName '"+strings.TrimPrefix(c.at, "key:")+"'") {
				t.Errorf("%s: want an error about the key %s, got %v", c.name, c.at, err)
			}
		case c.at != "" && !slices.Contains(locations(err), c.at):
			t.Errorf("%s: want an error at %s, got %v", c.name, c.at, err)
		}
	}
}

// TestCanonicalFormValidates checks that the canonical bytes of normalized
// jobs, which carry every field, are valid job documents.
func TestCanonicalFormValidates(t *testing.T) {
	sch := compileSchema(t)
	var jobs []schema.Job
	for _, typ := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
		for _, e := range []schema.Engine{schema.Docker, schema.Exec, schema.Wasm} {
			for _, canary := range []bool{false, true} {
				j, _ := minimalJob(typ, e, canary)
				jobs = append(jobs, j)
			}
		}
	}
	j, _ := minimalJob(schema.Service, schema.Docker, true)
	j.Labels = map[string]string{"app": "web"}
	j.Selector.MatchExpressions = []string{"region == us", "zone in (b, a, b)", "!spot"}
	j.Task.Env = map[string]string{"A": "1"}
	j.Task.Inputs = []schema.Input{{Source: "https://example.com/a", Target: "/a"}}
	j.Task.Outputs = []schema.Output{{Path: "/out/b"}, {Path: "/out/a"}}
	j.Task.Resources.CPUs = 0.25
	j.Task.Resources.Memory = 2048
	j.Rollout.CanaryPercent = 25
	j.Timeouts.Total = schema.Duration(90 * 60 * 1e9)
	j.Task.Network = schema.NetworkBridge
	j.Task.Ports = []schema.Port{{Name: "http", To: 8080}, {Name: "admin", Port: 9000, To: 9000}}
	j.Rollout.HealthCheck.Probe = &schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Status: []int{204, 200, 204}}}
	jobs = append(jobs, j)
	d, _ := minimalJob(schema.Daemon, schema.Exec, false)
	d.Task.Ports = []schema.Port{{Name: "metrics"}}
	d.Rollout.HealthCheck.Probe = &schema.Probe{TCP: &schema.TCPProbe{}, Timeout: schema.Duration(1e9)}
	jobs = append(jobs, d)
	for _, typ := range []schema.JobType{schema.Batch, schema.Ops} {
		s, _ := minimalJob(typ, schema.Docker, false)
		s.Schedule = &schema.Schedule{Cron: "  15 3 * JAN  Mon-Fri", ProhibitOverlap: true}
		jobs = append(jobs, s)
	}
	for _, j := range jobs {
		schema.Normalize(&j)
		if err := validate(t, sch, j.Canonical()); err != nil {
			t.Errorf("canonical form of %s/%s/%s does not validate: %v\n%s", j.Type, j.Task.Engine, j.Rollout.Strategy, err, j.Canonical())
		}
	}
}

// TestJSONSchemaDescribesEveryProperty walks the generated schema and
// checks that every property has a description and every object level
// forbids unknown members.
func TestJSONSchemaDescribesEveryProperty(t *testing.T) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schema.JSONSchema()))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(path string, s map[string]any)
	walk = func(path string, s map[string]any) {
		if props, ok := s["properties"].(map[string]any); ok {
			if s["additionalProperties"] != false {
				t.Errorf("%s: additionalProperties is not false", path)
			}
			for name, p := range props {
				ps := p.(map[string]any)
				if d, _ := ps["description"].(string); d == "" {
					t.Errorf("%s.%s: no description", path, name)
				}
				walk(strings.TrimPrefix(path+"."+name, "."), ps)
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(path+"[]", items)
		}
	}
	walk("", doc.(map[string]any))
}

// TestConditionalFieldsPlacement checks the assumptions the generator makes
// about the catalog: engine requirements and patterns live under task
// (beside task.engine; a field elsewhere may only exist for some engines),
// strategy rules under rollout (beside rollout.strategy) and share one set
// of strategies that no default strategy is in. A field that is not for
// the default type is also refused where no type is written (schemaCases).
func TestConditionalFieldsPlacement(t *testing.T) {
	var strategies []schema.Strategy
	for _, f := range schema.Fields {
		if (len(f.RequiredFor) > 0 || len(f.EnginePattern) > 0) && !strings.HasPrefix(f.Path, "task.") {
			t.Errorf("%s: engine requirements outside task", f.Path)
		}
		if len(f.Strategies) > 0 {
			if !strings.HasPrefix(f.Path, "rollout.") {
				t.Errorf("%s: strategy rules outside rollout", f.Path)
			}
			if strategies != nil && !slices.Equal(strategies, f.Strategies) {
				t.Errorf("%s: strategies %v differ from %v", f.Path, f.Strategies, strategies)
			}
			strategies = f.Strategies
			for _, typ := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
				if slices.Contains(f.Strategies, schema.DefaultStrategy(typ)) {
					t.Errorf("%s: the default strategy of %s is one of %v", f.Path, typ, f.Strategies)
				}
			}
		}
	}
}

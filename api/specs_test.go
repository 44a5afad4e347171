package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/muster-dev/muster/compiler"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/state"
)

// webYAML is a job as a user writes it; muster hash gives its content
// address.
const webYAML = `name: web
namespace: shop
type: service
task:
  engine: docker
  image: registry.local/web:1.4
  env: {LOG_LEVEL: info}
selector:
  match_expressions: ["zone in (b, a)"]
`

// hashOf is what `muster hash` prints for the one job of a YAML file.
func hashOf(t *testing.T, src string) string {
	t.Helper()
	res := compiler.Compile("web.yaml", []byte(src), compiler.YAML, lang.Options{})
	if res.Diags.HasErrors() || len(res.Jobs) != 1 {
		t.Fatalf("compile: %v", res.Diags)
	}
	return res.Jobs[0].Spec.Hash()
}

// TestPutSpecStoresTheCanonicalHash posts one job in several spellings:
// each is stored as the canonical bytes under the hash `muster hash`
// prints, so that a spec posted by hand cannot get a second address.
func TestPutSpecStoresTheCanonicalHash(t *testing.T) {
	h := newHarness(t, "", nil)
	want := hashOf(t, webYAML)
	res := compiler.Compile("web.yaml", []byte(webYAML), compiler.YAML, lang.Options{})
	canonical := res.Jobs[0].Spec.Canonical()

	bodies := map[string]string{
		"canonical":                        string(canonical),
		"canonical and a trailing newline": string(canonical) + "\n",
		"spaces, another key order, defaults left out": `
		  {"task": {"image": "registry.local/web:1.4", "engine": "docker", "env": {"LOG_LEVEL": "info"}},
		   "selector": {"match_expressions": ["zone in (a,b)", "zone in (b, a)"]},
		   "type": "service", "namespace": "shop", "name": "web"}` + "\r\n\t",
		"defaults spelled differently": `{"name":"web","namespace":"shop","type":"service","count":1.0,"priority":50,
		   "restart_policy":"always","task":{"engine":"docker","image":"registry.local/web:1.4","env":{"LOG_LEVEL":"info"},
		   "resources":{"cpus":"1000m","memory":"256Mi"}},"selector":{"match_expressions":["zone in (a,b)"]},
		   "rollout":{"health_check":{"deadline":300,"min_healthy_time":"30s"}},"timeouts":{"total":0}}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			status, code, resp := h.raw(t, "POST", "/v1/specs", "", body)
			if status != 200 {
				t.Fatalf("POST /v1/specs = %d %q: %s", status, code, resp)
			}
			var got hashResponse
			if err := json.Unmarshal([]byte(resp), &got); err != nil {
				t.Fatal(err)
			}
			if got.Hash != want {
				t.Errorf("hash = %s, want %s (muster hash)", got.Hash, want)
			}
			stored, err := h.store.Spec(ctxT(t), got.Hash)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(stored, canonical) {
				t.Errorf("stored bytes\n%s\nwant the canonical bytes\n%s", stored, canonical)
			}
		})
	}
}

// TestPutSpecRefusesWhatIsNotAJob posts bodies that are JSON but not one
// valid job: each is answered 400 with the diagnostics, and nothing is
// stored.
func TestPutSpecRefusesWhatIsNotAJob(t *testing.T) {
	h := newHarness(t, "", nil)
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		name, body string
		says       []string // fragments of the error message
	}{
		{"not a job", `{"foo":1}`, []string{`body:1:2: error: unknown field "foo"`, "body:1:1: error: a job needs a name", "a job needs a task"}},
		{"empty object", `{}`, []string{"a job needs a name"}},
		{"array of jobs", `[{"name":"a","task":{"engine":"exec","cmd":["x"]}}]`, []string{"one job object, not an array"}},
		{"empty array", `[]`, []string{"one job object, not an array"}},
		{"string", `"web"`, []string{"invalid spec"}},
		{"null", `null`, []string{"invalid spec"}},
		{"two values", `{"name":"a","task":{"engine":"exec","cmd":["x"]}} {}`, []string{"invalid spec"}},
		{"whitespace", " \n", []string{"empty spec"}},
		{"a rule broken", `{"name":"a","task":{"engine":"exec","cmd":["x"],"env":{"PATH":"/tmp"}}}`, []string{"body:1:56: error: PATH cannot be set", "(task.env.PATH)"}},
		{"NUL in cmd", `{"name":"a","task":{"engine":"exec","cmd":["x\u0000y"]}}`, []string{"task.cmd[0] holds a NUL byte"}},
		{"escape in description", `{"name":"a","description":"\u001b[2J","task":{"engine":"exec","cmd":["x"]}}`, []string{"U+001B (escape)"}},
		{"input of another namespace", `{"name":"a","namespace":"shop","task":{"engine":"exec","cmd":["x"],
			"inputs":[{"source":"job:bank/ledger@sha256:` + hex + `","target":"/in"}]}}`, []string{"own namespace (shop)"}},
		{"impossible health check", `{"name":"a","type":"service","task":{"engine":"exec","cmd":["x"]},
			"rollout":{"health_check":{"deadline":"15s","min_healthy_time":"2s"}}}`, []string{"rollout.health_check.deadline is 15s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, resp := h.raw(t, "POST", "/v1/specs", "", tt.body)
			if status != 400 || code != CodeBadRequest {
				t.Fatalf("POST /v1/specs %s = %d %q, want 400 %q: %s", tt.body, status, code, CodeBadRequest, resp)
			}
			var e errorBody
			if err := json.Unmarshal([]byte(resp), &e); err != nil {
				t.Fatal(err)
			}
			for _, s := range tt.says {
				if !strings.Contains(e.Error, s) {
					t.Errorf("error %q does not say %q", e.Error, s)
				}
			}
		})
	}
	// Nothing of the above was stored as it was sent.
	for _, tt := range tests {
		if _, err := h.store.Spec(ctxT(t), schema.HashBytes([]byte(tt.body))); !errors.Is(err, state.ErrNotFound) {
			t.Errorf("%s: the body was stored (%v)", tt.name, err)
		}
	}
}

// TestCommitVersionNeedsTheJobsOwnSpec commits specs under job routes: a
// spec of another job, in the same namespace or another, is refused, so
// that a version never runs another job's spec.
func TestCommitVersionNeedsTheJobsOwnSpec(t *testing.T) {
	h := newHarness(t, "", nil)
	c, ctx := h.client, ctxT(t)
	web, err := c.PutSpec(ctx, spec("web", 1))
	if err != nil {
		t.Fatal(err)
	}
	for _, route := range []string{"/v1/jobs/default/api/versions", "/v1/jobs/shop/web/versions"} {
		body := `{"hash":"` + web + `","state":"pending"}`
		status, code, resp := h.raw(t, "POST", route, "", body)
		if status != 400 || code != CodeBadRequest || !strings.Contains(resp, "is the job default/web") {
			t.Errorf("POST %s = %d %q: %s; want 400 naming default/web", route, status, code, resp)
		}
	}
	if _, err := c.CommitVersion(ctx, "default", "web", web, 0, state.StatePending); err != nil {
		t.Errorf("committing its own spec: %v", err)
	}

	// A spec stored before a rule that it breaks was added stays a version
	// its own job may return to (a rollback), and only its own.
	legacy := []byte(strings.Replace(string(spec("old", 1)), `"env":{}`, `"env":{"path":"/opt/bin"}`, 1))
	old, err := h.store.PutSpec(ctx, legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CommitVersion(ctx, "default", "old", old, 0, state.StatePending); err != nil {
		t.Errorf("committing a legacy spec to its own job: %v", err)
	}
	if _, err := c.CommitVersion(ctx, "default", "web", old, 1, state.StatePending); err == nil || !strings.Contains(err.Error(), "is the job default/old") {
		t.Errorf("committing a legacy spec to another job: %v, want refused", err)
	}
	if _, err := c.PutSpec(ctx, legacy); err == nil || !strings.Contains(err.Error(), "task.env.path") {
		t.Errorf("posting the legacy spec anew: %v, want refused", err)
	}
}

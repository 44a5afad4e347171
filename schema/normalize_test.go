package schema_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
)

// service returns a normalized-ready service job on engine e with ports and
// probe.
func service(e schema.Engine, ports []schema.Port, probe *schema.Probe) schema.Job {
	j, _ := minimalJob(schema.Service, e, false)
	j.Task.Network = schema.NetworkBridge
	j.Task.Ports = ports
	j.Rollout.HealthCheck.Probe = probe
	return j
}

func TestNormalizePorts(t *testing.T) {
	j := service(schema.Docker, []schema.Port{
		{Name: "metrics", Port: 9100, To: 9100}, // to = port means the same as no to
		{Name: "admin", Port: 9000, To: 90},
		{Name: "http", To: 8080}, // a dynamic port keeps its to
	}, nil)
	schema.Normalize(&j)
	want := []schema.Port{{Name: "admin", Port: 9000, To: 90}, {Name: "http", To: 8080}, {Name: "metrics", Port: 9100}}
	if !reflect.DeepEqual(j.Task.Ports, want) {
		t.Errorf("ports = %+v, want %+v", j.Task.Ports, want)
	}
	if got := string(j.Canonical()); !strings.Contains(got, `"ports":[{"name":"admin","port":9000,"to":90},{"name":"http","to":8080},{"name":"metrics","port":9100}]`) {
		t.Errorf("canonical form: %s", got)
	}
	if got := j.Task.StaticPorts(); !reflect.DeepEqual(got, []schema.Port{want[0], want[2]}) {
		t.Errorf("StaticPorts() = %+v", got)
	}
	if p, ok := j.Task.PortNamed("http"); !ok || p != want[1] {
		t.Errorf("PortNamed(http) = %+v, %v", p, ok)
	}
	if _, ok := j.Task.PortNamed("nope"); ok {
		t.Error("PortNamed(nope) found a port")
	}

	// Empty ports are no ports: nil, and absent from the canonical form.
	for _, ports := range [][]schema.Port{nil, {}} {
		j := service(schema.Exec, ports, nil)
		schema.Normalize(&j)
		if j.Task.Ports != nil || bytes.Contains(j.Canonical(), []byte(`"ports"`)) {
			t.Errorf("ports %#v: normalized to %#v, canonical %s", ports, j.Task.Ports, j.Canonical())
		}
	}
}

func TestNormalizeProbe(t *testing.T) {
	one := []schema.Port{{Name: "http"}}
	two := []schema.Port{{Name: "http"}, {Name: "admin"}}
	tests := []struct {
		name  string
		ports []schema.Port
		probe *schema.Probe
		want  *schema.Probe
		canon string
	}{
		{"http defaults and the only port", one, &schema.Probe{HTTP: &schema.HTTPProbe{}},
			&schema.Probe{HTTP: &schema.HTTPProbe{Port: "http", Path: "/", Status: []int{}}, Timeout: schema.DefaultProbeTimeout},
			`"probe":{"http":{"path":"/","port":"http","status":[]},"timeout":"2s"}`},
		{"status sorted and de-duplicated", two, &schema.Probe{HTTP: &schema.HTTPProbe{Port: "admin", Path: "/healthz", Status: []int{204, 200, 204}}, Timeout: schema.Duration(1500e6)},
			&schema.Probe{HTTP: &schema.HTTPProbe{Port: "admin", Path: "/healthz", Status: []int{200, 204}}, Timeout: schema.Duration(1500e6)},
			`"probe":{"http":{"path":"/healthz","port":"admin","status":[200,204]},"timeout":"1.5s"}`},
		{"tcp and the only port", one, &schema.Probe{TCP: &schema.TCPProbe{}},
			&schema.Probe{TCP: &schema.TCPProbe{Port: "http"}, Timeout: schema.DefaultProbeTimeout},
			`"probe":{"tcp":{"port":"http"},"timeout":"2s"}`},
		{"no port implied among two", two, &schema.Probe{TCP: &schema.TCPProbe{}},
			&schema.Probe{TCP: &schema.TCPProbe{}, Timeout: schema.DefaultProbeTimeout},
			`"probe":{"tcp":{"port":""},"timeout":"2s"}`},
		{"exec", nil, &schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"check"}}, Timeout: schema.Duration(3e9)},
			&schema.Probe{Exec: &schema.ExecProbe{Cmd: []string{"check"}}, Timeout: schema.Duration(3e9)},
			`"probe":{"exec":{"cmd":["check"]},"timeout":"3s"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := service(schema.Exec, tt.ports, tt.probe)
			schema.Normalize(&j)
			if !reflect.DeepEqual(j.Rollout.HealthCheck.Probe, tt.want) {
				t.Errorf("probe = %+v, want %+v", j.Rollout.HealthCheck.Probe, tt.want)
			}
			canon := j.Canonical()
			if !bytes.Contains(canon, []byte(tt.canon)) {
				t.Errorf("canonical form lacks %s:\n%s", tt.canon, canon)
			}
			// Normalizing is idempotent, and the canonical bytes read back.
			schema.Normalize(&j)
			if again := j.Canonical(); !bytes.Equal(again, canon) {
				t.Errorf("Normalize is not idempotent:\n%s\n%s", canon, again)
			}
			back, err := schema.FromCanonical(canon)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Rollout.HealthCheck.Probe, tt.want) || !reflect.DeepEqual(back.Task.Ports, j.Task.Ports) {
				t.Errorf("FromCanonical gives %+v and %+v", back.Rollout.HealthCheck.Probe, back.Task.Ports)
			}
		})
	}
	var none *schema.Probe
	if none.Kind() != "" || none.PortName() != "" {
		t.Error("a nil probe has a kind or a port")
	}
	if p := (&schema.Probe{HTTP: &schema.HTTPProbe{Port: "a"}}); p.Kind() != "http" || p.PortName() != "a" {
		t.Errorf("http probe: %s %s", p.Kind(), p.PortName())
	}
	if p := (&schema.Probe{Exec: &schema.ExecProbe{}}); p.Kind() != "exec" || p.PortName() != "" {
		t.Errorf("exec probe: %s %s", p.Kind(), p.PortName())
	}
}

// firstReleaseHashes pins the hash of minimalJob of each type and engine
// as the first release of muster/v1 computed it: a field added after it
// that a job does not write must leave these unchanged.
var firstReleaseHashes = map[string]string{
	"batch/docker":   "sha256:4a2fcfd981329a6cce20a13b662550f8699e8cd9f48ad46f2df0870fd691186c",
	"batch/exec":     "sha256:a3fb959e327a9fcaf04e34bf75961c2a1399b4065326df5a12c670e1a6fd271f",
	"batch/wasm":     "sha256:1a27fbabaaf338ce7f7e8297d49a7e0566fea6b78a3bbdbfe907ee97f64d8c1e",
	"ops/docker":     "sha256:c447d546f924516436c0f6bf83459240a605d64e19c1bf2e81b8f6b75cd5d27d",
	"ops/exec":       "sha256:a946812976be1a9303c8ca41b26b72ba58d4d537131b06f98024a3847ad6f7e2",
	"ops/wasm":       "sha256:05bbba15485d2eec5d022550c801646e7ec8bcd1ddaadca4690327b242e1dbbf",
	"service/docker": "sha256:f06ecc35c4e8b325f77897fb64fc9066c7490484cb5aa1f3bb86f8c0adf0d01e",
	"service/exec":   "sha256:3e40257f42aabd4c8f11498f31c2bde35c646ff25e3a8ff110a8ea6304ae5a39",
	"service/wasm":   "sha256:9729d9d68d2da747eedbca050aa6a2b9344c34350655ad72fbed00091ac1dabd",
	"daemon/docker":  "sha256:5d7e0dda3f225bb30237c19a750e49f80956efe42a5f4ada7384ffa13fef17ad",
	"daemon/exec":    "sha256:35659f6d3920d06641cb53a0415b7a9d872bdb62b67c553e131e0d61ee01a856",
	"daemon/wasm":    "sha256:842b7dcc8005be37b588915c40318d1cbbcb5955f927f859fe474c6a207bd748",
}

// TestLaterFieldsKeepOldHashes proves docs/spec.md section 3 for task.ports
// and rollout.health_check.probe: a job that does not write them, or
// writes no ports, has the bytes and hash it had before they existed
// (pinned here from the release without them), for every type and engine.
func TestLaterFieldsKeepOldHashes(t *testing.T) {
	for _, typ := range []schema.JobType{schema.Batch, schema.Ops, schema.Service, schema.Daemon} {
		for _, e := range []schema.Engine{schema.Docker, schema.Exec, schema.Wasm} {
			j, _ := minimalJob(typ, e, false)
			schema.Normalize(&j)
			before := j.Canonical()
			if got, want := j.Hash(), firstReleaseHashes[string(typ)+"/"+string(e)]; got != want {
				t.Errorf("%s/%s: hash %s, before task.ports and probes it was %s", typ, e, got, want)
			}
			for _, key := range []string{`"ports"`, `"probe"`} {
				if bytes.Contains(before, []byte(key)) {
					t.Errorf("%s/%s: the canonical form holds %s: %s", typ, e, key, before)
				}
			}
			j.Task.Ports = []schema.Port{}
			schema.Normalize(&j)
			if after := j.Canonical(); !bytes.Equal(after, before) {
				t.Errorf("%s/%s: empty ports change the canonical form:\n%s\n%s", typ, e, before, after)
			}
		}
	}
}

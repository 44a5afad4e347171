package cue

import (
	"bytes"
	"strings"
	"testing"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/validate"
)

// FuzzParse checks that Parse never fails inside (no panic, no internal
// error), that every diagnostic names the file, and that every job it
// returns that validates round-trips: its canonical JSON, read back as CUE
// (JSON is CUE), yields the same canonical bytes and so the same hash.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		webCUE,
		"name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\n",
		"jobs: [{name: \"a\", task: {engine: \"exec\", cmd: [\"x\"]}}, {name: \"b\", type: \"daemon\", task: {engine: \"wasm\", image: \"/m.wasm\"}}]\n",
		"package jobs\n_v: *\"1\" | string @tag(v)\nname: \"web\"\ntask: {engine: \"docker\", image: \"web:\\(_v)\"}\nrollout: {strategy: \"canary\", canary_percent: 20}\n",
		"#Base: #Job & {type: \"service\"}\njobs: [for n in [\"a\", \"b\"] {#Base & {name: n, task: {engine: \"exec\", cmd: [n]}}}]\n",
		"name: \"web\"\ntask: {engine: \"docker\", image: string}\npriority: 500\nfoo: 1\n",
		"name: \"web\"\ntask: {engine: \"exec\", cmd: [\"x\"], resources: {cpus: \"500m\", memory: \"1Gi\"}}\ntimeouts: total: 3600\n",
		"name: \"api\"\ntype: \"service\"\ntask: {engine: \"docker\", image: \"api:1\", network: \"bridge\", ports: [{name: \"http\", to: 8080}]}\nrollout: health_check: probe: {http: path: \"/healthz\", timeout: \"1s\"}\n",
		"name: \"dns\"\ntype: \"daemon\"\ntask: {engine: \"exec\", cmd: [\"d\"], ports: [{name: \"dns\", port: 53}, {name: \"dns\"}]}\nrollout: health_check: probe: tcp: {}\n",
		"name: \"clean\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\nschedule: {cron: \"15 3 * * *\", time_zone: \"Europe/Berlin\"}\n",
		"name: \"sweep\"\ntype: \"ops\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\nschedule: {cron: \"@Daily\", prohibit_overlap: false}\n",
		"name: \"web\"\ntype: \"service\"\ntask: {engine: \"exec\", cmd: [\"x\"]}\nschedule: cron: \"@every 5m\"\n",
		"name: \"a\" & \"b\"\n",
		"jobs: {}\n",
		"[1, 2]\n",
		"name: 'x'\n",
		"a: b: c: [[[[{}]]]]\n",
	} {
		f.Add([]byte(seed))
	}
	opts := lang.Options{Vars: map[string]string{"v": "2", "image": "web:1"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		jobs, diags := Parse("fuzz.cue", src, opts)
		for _, d := range diags {
			if strings.Contains(d.Message, "internal error") {
				t.Fatalf("internal error on %q: %v", src, d)
			}
			if d.Range.Filename != "fuzz.cue" {
				t.Fatalf("diagnostic without the file name: %v", d)
			}
		}
		for _, tree := range jobs {
			j, _ := validate.Job(tree)
			if j == nil {
				continue
			}
			canon := j.Canonical()
			again, ds := Parse("canonical.cue", canon, lang.Options{})
			if len(again) != 1 || ds.HasErrors() {
				t.Fatalf("canonical form of %q does not parse back: %s\n%v", src, canon, ds)
			}
			j2, ds := validate.Job(again[0])
			if j2 == nil {
				t.Fatalf("canonical form of %q does not validate back: %s\n%v", src, canon, ds)
			}
			if c2 := j2.Canonical(); !bytes.Equal(c2, canon) || j2.Hash() != j.Hash() {
				t.Fatalf("round trip changed the job\nfirst:  %s\nsecond: %s", canon, c2)
			}
		}
	})
}

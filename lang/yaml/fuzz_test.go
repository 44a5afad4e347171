package yaml_test

import (
	"testing"

	"github.com/muster-dev/muster/internal/roundtrip"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/yaml"
)

var seeds = []string{
	"name: a\ntask:\n  engine: exec\n  cmd: [echo, hi]\n",
	"name: a\ntype: service\ntask: {engine: docker, image: 'web:1'}\nrollout:\n  strategy: canary\n  canary_percent: 10\n---\nname: b\ntask: {engine: wasm, image: /m.wasm}\n",
	"base: &b {engine: exec, cmd: [x]}\nname: a\ntask:\n  <<: *b\n  env: {A: '1'}\n",
	"name: a\ntask:\n  engine: exec\n  cmd: [x]\n  resources: {cpus: 0.5, memory: 1Gi}\ntimeouts: {total: 1h}\n",
	"name: api\ntype: service\ntask:\n  engine: docker\n  image: api:1\n  network: bridge\n  ports:\n    - {name: http, to: 8080}\n    - {name: admin, port: 9000}\nrollout:\n  health_check:\n    probe: {http: {port: http, path: /healthz, status: [204, 200]}, timeout: 1s}\n",
	"name: dns\ntype: daemon\ntask: {engine: exec, cmd: [dnsd], ports: [{name: dns, port: 53}]}\nrollout: {health_check: {probe: {tcp: {}}}}\n---\nname: c\ntype: service\ntask: {engine: exec, cmd: [x]}\nrollout: {health_check: {probe: {exec: {cmd: [check]}}}}\n",
	"name: clean\ntask: {engine: exec, cmd: [x]}\nschedule:\n  cron: 15 3 * JAN mon\n  time_zone: Europe/Berlin\n---\nname: sweep\ntype: ops\ntask: {engine: exec, cmd: [x]}\nschedule: {cron: '@Daily', prohibit_overlap: false}\n",
	"name: web\ntype: service\ntask: {engine: exec, cmd: [x]}\nschedule: {cron: 0 0 3 * * *, time_zone: Mars/Olympus}\n",
	"name: [a\n",
	"a: &a [*a]\n",
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		trees, _ := yaml.Parse("fuzz.yaml", src, lang.Options{})
		if err := roundtrip.Check(trees); err != nil {
			t.Fatal(err)
		}
	})
}

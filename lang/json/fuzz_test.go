package json_test

import (
	"testing"

	"github.com/muster-dev/muster/internal/roundtrip"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/lang/json"
)

var seeds = []string{
	`{"name":"a","task":{"engine":"exec","cmd":["echo","hi"]}}`,
	`[{"name":"a","task":{"engine":"docker","image":"web:1"},"type":"service","rollout":{"strategy":"canary","canary_percent":10}},{"name":"b","task":{"engine":"wasm","image":"/m.wasm"}}]`,
	`{"name":"w","labels":{"app.kubernetes.io/name":"w"},"selector":{"match_expressions":["a in (x, y)","!b"]},"task":{"engine":"exec","cmd":["x"],"resources":{"cpus":"250m","memory":"1Gi"},"inputs":[{"source":"file:///etc/hosts","target":"/in/hosts"}]},"timeouts":{"total":60}}`,
	`{"a":"\u00e9\ud83d\ude00","n":-0.5e+3}`,
	`{"name":"a","count":9007199254740993,"task":{}}`,
	`{"name":"api","type":"service","task":{"engine":"docker","image":"api:1","network":"bridge","ports":[{"name":"http","to":8080},{"name":"admin","port":9000,"to":9000}]},"rollout":{"health_check":{"interval":"5s","probe":{"http":{"port":"http","path":"/healthz?x=%2F","status":[204,200,204]},"timeout":"1s"}}}}`,
	`{"name":"dns","type":"daemon","task":{"engine":"exec","cmd":["dnsd"],"ports":[{"name":"dns","port":53}]},"rollout":{"health_check":{"probe":{"tcp":{}}}}}`,
	`{"name":"w","type":"service","task":{"engine":"docker","image":"w:1","network":"host","ports":[]},"rollout":{"health_check":{"probe":{"exec":{"cmd":["check"]},"timeout":1}}}}`,
	`[{"name":"clean","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":" 15  3 * JAN mon","time_zone":"Europe/Berlin"}},{"name":"sweep","type":"ops","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@Daily","prohibit_overlap":false,"time_zone":null}}]`,
	`{"name":"w","type":"daemon","task":{"engine":"exec","cmd":["x"]},"schedule":{"cron":"@every 5m","timezone":"Local"}}`,
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		trees, _ := json.Parse("fuzz.json", src, lang.Options{})
		if err := roundtrip.Check(trees); err != nil {
			t.Fatal(err)
		}
	})
}

package validate_test

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/muster-dev/muster/schema"
	"github.com/muster-dev/muster/validate"
)

// svc is a service job on the task and with the health check given (JSON
// members without braces).
func svc(task, healthCheck string) string {
	return `{"name":"a","type":"service","task":{` + task + `},"rollout":{"health_check":{` + healthCheck + `}}}`
}

const (
	bridge = `"engine":"docker","image":"web:1","network":"bridge"`
	host   = `"engine":"docker","image":"web:1","network":"host"`
	none   = `"engine":"docker","image":"web:1"`
	execT  = `"engine":"exec","cmd":["serve"]`
	wasmT  = `"engine":"wasm","image":"/m.wasm"`
)

func TestPortsAndProbesValid(t *testing.T) {
	tests := []struct {
		name, src string
		has       []string // in the canonical form
	}{
		{"dynamic port mapped into a bridge container", svc(bridge+`,"ports":[{"name":"http","to":8080}]`, ``),
			[]string{`"ports":[{"name":"http","to":8080}]`}},
		{"sorted by name, to equal to port dropped", svc(bridge+`,"ports":[{"name":"web","port":80,"to":80},{"name":"admin","port":0}]`, ``),
			[]string{`"ports":[{"name":"admin"},{"name":"web","port":80}]`}},
		{"host network static port", svc(host+`,"ports":[{"name":"dns","port":53}]`, `"probe":{"tcp":{}}`),
			[]string{`"ports":[{"name":"dns","port":53}]`, `"probe":{"tcp":{"port":"dns"},"timeout":"2s"}`}},
		{"exec task ports", svc(execT+`,"ports":[{"name":"a","port":8080},{"name":"b","port":8081},{"name":"c"},{"name":"d"}]`, ``),
			[]string{`{"name":"c"},{"name":"d"}`}},
		{"daemon", `{"name":"a","type":"daemon","task":{` + execT + `,"ports":[{"name":"m"}]}}`, []string{`"ports":[{"name":"m"}]`}},
		{"empty ports are none", svc(none+`,"ports":[]`, ``), nil},
		{"null ports are none", svc(wasmT+`,"ports":null`, ``), nil},
		{"http probe filled in", svc(execT+`,"ports":[{"name":"http"}]`, `"interval":"5s","probe":{"http":{}}`),
			[]string{`"probe":{"http":{"path":"/","port":"http","status":[]},"timeout":"2s"}`}},
		{"http probe written out", svc(execT+`,"ports":[{"name":"http"},{"name":"admin"}]`,
			`"probe":{"http":{"port":"admin","path":"/healthz?full=1&x=%2F","status":[500,200,204,200]},"timeout":"9.5s"}`),
			[]string{`"probe":{"http":{"path":"/healthz?full=1&x=%2F","port":"admin","status":[200,204,500]},"timeout":"9.5s"}`}},
		{"exec probe in docker", svc(none, `"probe":{"exec":{"cmd":["/bin/check","--ready"]},"timeout":1}`),
			[]string{`"probe":{"exec":{"cmd":["/bin/check","--ready"]},"timeout":"1s"}`}},
		{"timeout just under the interval", svc(execT, `"interval":"3s","probe":{"exec":{"cmd":["c"]},"timeout":"2999ms"}`),
			[]string{`"timeout":"2.999s"`}},
		{"null probe is none", svc(execT, `"probe":null`), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, diags := compile(t, tt.src)
			if j == nil {
				t.Fatalf("want a job, got:\n%v", diags)
			}
			got := string(j.Canonical())
			for _, s := range tt.has {
				if !strings.Contains(got, s) {
					t.Errorf("canonical form lacks %s:\n%s", s, got)
				}
			}
			if tt.has == nil && (strings.Contains(got, `"ports"`) || strings.Contains(got, `"probe"`)) {
				t.Errorf("canonical form holds ports or a probe:\n%s", got)
			}
		})
	}
}

// errorCase is a one-line job that fails to validate: src, its
// diagnostics as "path: message fragment" in source order, and the text of
// src each one points at (its last occurrence), "" to skip.
type errorCase struct {
	src  string
	want []string
	at   []string
}

// checkErrors compiles each case and holds its diagnostics to want and at,
// each with a position.
func checkErrors(t *testing.T, tests []errorCase) {
	t.Helper()
	for _, tt := range tests {
		j, diags := compile(t, tt.src)
		if j != nil {
			t.Errorf("%s: want errors, got a job", tt.src)
			continue
		}
		if len(diags) != len(tt.want) {
			t.Errorf("%s: got %d diagnostics, want %d:\n%v", tt.src, len(diags), len(tt.want), diags)
			continue
		}
		for i, d := range diags {
			got := d.Path + ": " + d.Message
			if !strings.HasPrefix(got, tt.want[i]) {
				t.Errorf("%s:\n got %s\nwant %s...", tt.src, got, tt.want[i])
			}
			if d.Range.Start.Line == 0 {
				t.Errorf("%s: diagnostic without a position: %v", tt.src, d)
			}
			if i >= len(tt.at) {
				continue
			}
			if at := tt.at[i]; at != "" {
				if col := strings.LastIndex(tt.src, at) + 1; d.Range.Start.Line != 1 || d.Range.Start.Column != col {
					t.Errorf("%s: %s at %d:%d, want 1:%d (%s)", tt.src, d.Path, d.Range.Start.Line, d.Range.Start.Column, col, at)
				}
			}
		}
	}
}

func TestPortsAndProbesErrors(t *testing.T) {
	tests := []errorCase{
		// task.ports
		{`{"name":"a","task":{` + execT + `,"ports":[{"name":"http"}]}}`,
			[]string{`task.ports: task.ports applies only to service and daemon jobs; a batch job runs to completion and serves nothing: remove task.ports, or make the job a service`}, []string{`"ports"`}},
		{`{"name":"a","type":"ops","task":{` + execT + `,"ports":[]}}`,
			[]string{`task.ports: task.ports applies only to service and daemon jobs; an ops job runs`}, []string{`"ports"`}},
		{svc(wasmT+`,"ports":[{"name":"http"}]`, ``),
			[]string{`task.ports: a wasm task takes no ports: a wasm module has no sockets to listen on; serve from a docker or exec task`}, []string{`"ports"`}},
		{svc(none+`,"ports":[{"name":"http"}]`, ``),
			[]string{`task.ports: a docker task on the network "none" cannot publish ports: set task.network to "bridge" (and map each port into the container with to) or "host"`}, []string{`"ports"`}},
		{svc(`"engine":"docker","image":"w","network":"none","ports":[{"name":"http","to":80}]`, ``),
			[]string{`task.ports: a docker task on the network "none" cannot publish ports`}, []string{`"ports"`}},
		{svc(host+`,"ports":[{"name":"http","port":80,"to":8080}]`, ``),
			[]string{`task.ports[0].to: task.ports[0].to maps a port into a docker container on the bridge network; a docker task on the network "host" listens on its host port itself (MUSTER_PORT_HTTP): remove to`}, []string{`"to"`}},
		{svc(execT+`,"ports":[{"name":"http","to":8080}]`, ``),
			[]string{`task.ports[0].to: task.ports[0].to maps a port into a docker container on the bridge network; an exec task listens on its host port itself (MUSTER_PORT_HTTP): remove to`}, []string{`"to"`}},
		{svc(bridge+`,"ports":[{"name":"Http"},{"name":"9a"},{"name":"a-b"},{"name":"`+strings.Repeat("a", 32)+`"}]`, ``),
			[]string{`task.ports[0].name: task.ports[0].name "Http" is invalid: a port name is a lowercase letter, then at most 30 lowercase letters, digits or '_', such as "http" or "admin_api"`,
				`task.ports[1].name: task.ports[1].name "9a" is invalid`, `task.ports[2].name: task.ports[2].name "a-b" is invalid`, `task.ports[3].name: task.ports[3].name "aaaa`},
			[]string{`"Http"`, `"9a"`, `"a-b"`, ""}},
		{svc(bridge+`,"ports":[{"name":"http"},{"name":"http","port":80}]`, ``),
			[]string{`task.ports[1].name: port name "http" is used twice (first by task.ports[0]); give each port its own name`}, []string{`"http","port"`}},
		{svc(bridge+`,"ports":[{"name":"a","port":80},{"name":"b","port":81},{"name":"c","port":80}]`, ``),
			[]string{`task.ports[2].port: host port 80 is taken by task.ports[0] already; give each port its own host port, or 0 for a dynamic one`}, []string{`80}`}},
		{svc(bridge+`,"ports":[{"name":"a","port":65536},{"name":"b","port":-1},{"name":"c","port":"80"},{"name":"d","port":1.5}]`, ``),
			[]string{`task.ports[0].port: task.ports[0].port is 65536; a host port is 1 to 65535, or 0 (or no port) for a dynamic one that the node picks`,
				`task.ports[1].port: task.ports[1].port is -1; a host port is 1 to 65535`,
				`task.ports[2].port: task.ports[2].port must be a whole number, not string "80"`,
				`task.ports[3].port: task.ports[3].port must be a whole number, not 1.5`},
			[]string{`65536`, `-1`, `"80"`, `1.5`}},
		{svc(bridge+`,"ports":[{"name":"a","to":0},{"name":"b","to":65536}]`, ``),
			[]string{`task.ports[0].to: task.ports[0].to is 0; the port inside the container is 1 to 65535 (leave to out to use the host port)`,
				`task.ports[1].to: task.ports[1].to is 65536`}, []string{`0}`, `65536`}},
		{svc(bridge+`,"ports":[{"port":80},"http",{"name":"b","prot":1}]`, ``),
			[]string{`task.ports[0].name: task.ports[0] needs a name, such as name: "http": the task finds its port in MUSTER_PORT_<NAME>, and a probe names it`,
				`task.ports[1]: task.ports[1] must be a map of fields, not string "http"`,
				`task.ports[2].prot: unknown field "prot"; did you mean "port"?`},
			[]string{`{"port":80}`, `"http",`, `"prot"`}},
		{svc(bridge+`,"ports":{"http":80}`, ``),
			[]string{`task.ports: task.ports must be a list of {name, port, to} maps, not map`}, []string{`{"http":80}`}},
		{svc(bridge+`,"port":80`, ``),
			[]string{`task.port: unknown field "port"; did you mean "ports"?`}, []string{`"port"`}},

		// rollout.health_check.probe
		{`{"name":"a","task":{` + execT + `},"rollout":{"health_check":{"probe":{"exec":{"cmd":["c"]}}}}}`,
			[]string{`rollout.health_check.probe: rollout.health_check.probe applies only to service and daemon jobs; a batch job runs to completion and has no health checks to probe: remove the probe`}, []string{`"probe"`}},
		{svc(execT, `"probe":{}`),
			[]string{`rollout.health_check.probe: a probe needs one of http, tcp or exec, such as http: {port: "http", path: "/healthz"}`}, []string{`"probe"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"tcp":{},"http":{}}`),
			[]string{`rollout.health_check.probe.http: a probe has one of http, tcp or exec, and this one has tcp already (line 1); keep one of them`}, []string{`"http"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"grpc":{},"tcp":{}}`),
			[]string{`rollout.health_check.probe.grpc: unknown field "grpc" in rollout.health_check.probe (known fields: http, tcp, exec, timeout)`}, []string{`"grpc"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"timeout":"1s","probe":{"tcp":{}}`),
			[]string{`rollout.health_check.timeout: unknown field "timeout" here; it belongs in rollout.health_check.probe.timeout`}, []string{`"timeout"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"port":"http","tcp":{}}`),
			[]string{`rollout.health_check.probe.port: unknown field "port" here; it belongs in rollout.health_check.probe.http.port or rollout.health_check.probe.tcp.port`}, []string{`"port":"http","tcp"`}},
		{svc(execT+`,"ports":[{"name":"http"},{"name":"admin"}]`, `"probe":{"http":{}}`),
			[]string{`rollout.health_check.probe.http.port: an http probe needs a port: the task has 2 (admin, http); name the one to probe, as port: "admin"`}, []string{`"http"`}},
		{svc(execT, `"probe":{"tcp":{}}`),
			[]string{`rollout.health_check.probe.tcp.port: a tcp probe needs a port of the task, and task.ports is empty: add one, such as task.ports: [{name: "http"}], and the probe uses it`}, []string{`"tcp"`}},
		{svc(execT+`,"ports":[{"name":"http"},{"name":"admin"}]`, `"probe":{"http":{"port":"htp"}}`),
			[]string{`rollout.health_check.probe.http.port: rollout.health_check.probe.http.port "htp" names no entry of task.ports (the task has admin, http); did you mean "http"?`}, []string{`"htp"`}},
		{svc(execT, `"probe":{"tcp":{"port":"web"}}`),
			[]string{`rollout.health_check.probe.tcp.port: rollout.health_check.probe.tcp.port "web" names no entry of task.ports, which is empty: add {name: "web"} to task.ports`}, []string{`"web"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"healthz"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "healthz" must be an absolute path, starting with /, such as "/healthz"`}, []string{`"healthz"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"https://web/healthz"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "https://web/healthz" is a URL: write only its path, such as "/healthz"; the probe always asks the execution's own port`}, []string{`"https://web/healthz"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"//web/healthz"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "//web/healthz" starts with //, which a client reads as a host name: write one /`}, []string{`"//web/healthz"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"/a b"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "/a b" holds a space at character 3: write it percent-encoded, as %20`}, []string{`"/a b"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"/a#top"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "/a#top" holds '#' at character 3: a fragment is never sent to the server; remove it, or write %23 for a literal #`}, []string{`"/a#top"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"/café"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "/café" holds 'é' at character 5: a request path is ASCII; write the character's UTF-8 bytes percent-encoded (%C3%A9)`}, []string{`"/café"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"/100%"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "/100%" holds a % at character 5 that two hex digits do not follow: write a literal % as %25`}, []string{`"/100%"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":"/a\tb"}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path holds the control character U+0009 (tab)`}, []string{`"/a\tb"`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"path":""}}`),
			[]string{`rollout.health_check.probe.http.path: rollout.health_check.probe.http.path "" is empty: write an absolute path such as "/healthz", or leave path out for "/"`}, []string{`""`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"status":[200,99,600,"204",2.5]}}`),
			[]string{`rollout.health_check.probe.http.status[1]: rollout.health_check.probe.http.status[1] is 99; an HTTP status code is 100 to 599, such as 200 or 204`,
				`rollout.health_check.probe.http.status[2]: rollout.health_check.probe.http.status[2] is 600`,
				`rollout.health_check.probe.http.status[3]: rollout.health_check.probe.http.status[3] must be a whole number`,
				`rollout.health_check.probe.http.status[4]: rollout.health_check.probe.http.status[4] must be a whole number, not 2.5`},
			[]string{`99`, `600`, `"204"`, `2.5`}},
		{svc(execT+`,"ports":[{"name":"http"}]`, `"probe":{"http":{"status":200}}`),
			[]string{`rollout.health_check.probe.http.status: rollout.health_check.probe.http.status must be a list of HTTP status codes, not number 200`}, []string{`200}`}},
		{svc(execT, `"probe":{"exec":{}}`),
			[]string{`rollout.health_check.probe.exec.cmd: an exec probe needs a command, such as cmd: ["/bin/check", "--ready"]; cmd[0] is the program`}, []string{`"exec"`}},
		{svc(execT, `"probe":{"exec":{"cmd":[]}}`),
			[]string{`rollout.health_check.probe.exec.cmd: an exec probe needs a command, such as ["/bin/check", "--ready"]; cmd[0] is the program`}, []string{`[]`}},
		{svc(execT, `"probe":{"exec":{"cmd":["","x"]}}`),
			[]string{`rollout.health_check.probe.exec.cmd[0]: rollout.health_check.probe.exec.cmd[0] is the program to run and must not be empty`}, []string{`""`}},
		{svc(execT, `"probe":{"exec":{"cmd":"check"}}`),
			[]string{`rollout.health_check.probe.exec.cmd: rollout.health_check.probe.exec.cmd must be a list of strings, not string "check"`}, []string{`"check"`}},
		{svc(wasmT, `"probe":{"exec":{"cmd":["check"]}}`),
			[]string{`rollout.health_check.probe.exec: a wasm task takes no exec probe: the command would run beside the task, and a wasm module is no environment to run one in (nor, without ports, can it take an http or tcp probe)`}, []string{`"exec"`}},
		{svc(execT, `"probe":{"exec":{"cmd":["c"]},"timeout":"0s"}`),
			[]string{`rollout.health_check.probe.timeout: rollout.health_check.probe.timeout is 0s; a probe needs time to answer: write a duration such as "2s"`}, []string{`"0s"`}},
		{svc(execT, `"probe":{"exec":{"cmd":["c"]},"timeout":"-1s"}`),
			[]string{`rollout.health_check.probe.timeout: rollout.health_check.probe.timeout: invalid duration "-1s": must not be negative`}, []string{`"-1s"`}},
		{svc(execT, `"interval":"5s","probe":{"exec":{"cmd":["c"]},"timeout":"5s"}`),
			[]string{`rollout.health_check.probe.timeout: rollout.health_check.probe.timeout is 5s, not less than rollout.health_check.interval 5s: a probe must end before the next check starts; make the timeout shorter than 5s, or the interval longer than 5s`}, []string{`"5s"}`}},
		{svc(execT, `"interval":"1s","deadline":"1m","min_healthy_time":"1s","probe":{"exec":{"cmd":["c"]}}`),
			[]string{`rollout.health_check.probe.timeout: rollout.health_check.probe.timeout is 2s (the default), not less than rollout.health_check.interval 1s: a probe must end before the next check starts; make the timeout shorter than 1s, or the interval longer than 2s`}, []string{`"probe"`}},
		{svc(execT, `"interval":"soon","probe":{"exec":{"cmd":["c"]}}`), // the interval's error alone
			[]string{`rollout.health_check.interval: rollout.health_check.interval: invalid duration "soon"`}, []string{`"soon"`}},
	}
	checkErrors(t, tests)
}

// TestPortAndPathPatterns holds the catalog patterns of a port name and a
// probe's path to the validator: the JSON Schema and #Job accept exactly
// what muster accepts (save control characters, which the validator
// refuses in every string).
func TestPortAndPathPatterns(t *testing.T) {
	name := regexp.MustCompile(schema.PortNamePattern)
	path := regexp.MustCompile(schema.ProbePathPattern)
	r := rand.New(rand.NewPCG(7, 7))
	gen := func(tokens []string) string {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			b.WriteString(tokens[r.IntN(len(tokens))])
		}
		return b.String()
	}
	names := []string{"http", "a", "a_1", "_a", "1a", "A", "a-b", "", strings.Repeat("a", 31), strings.Repeat("a", 32)}
	for range 3000 {
		names = append(names, gen([]string{"a", "z", "0", "9", "_", "-", "A", "é", "aaaaaaaaaa"}))
	}
	for _, s := range names {
		if got, want := name.MatchString(s), validate.IsPortNameForTest(s); got != want {
			t.Errorf("port name %q: pattern %v, validator %v", s, got, want)
		}
	}
	paths := []string{"/", "/healthz", "/a/b?c=d&e", "//a", "/a//b", "", "a", "http://x/y", "/a b", "/a#b", "/%20", "/%2", "/%zz", "/%", "/é", "/~!$&'()*+,;=:@", `/"<>\^{|}`, "/\x7f"}
	for range 5000 {
		paths = append(paths, gen([]string{"/", "a", "%", "2", "F", "g", "#", " ", "?", "=", "&", "é", "~", "\"", "'", ":", "\x7f", "//"}))
	}
	for _, s := range paths {
		if strings.ContainsRune(s, 0x7f) {
			continue // a control character: refused in every string, before this rule
		}
		if got, want := path.MatchString(s), validate.ProbePathProblemForTest(s) == ""; got != want {
			t.Errorf("probe path %q: pattern %v, validator %v (%s)", s, got, want, validate.ProbePathProblemForTest(s))
		}
	}
}

func TestElsewhere(t *testing.T) {
	for _, c := range []struct{ key, path, want string }{
		{"port", "rollout.health_check.probe", "rollout.health_check.probe.http.port or rollout.health_check.probe.tcp.port"},
		{"port", "task", "task.ports[].port"},
		{"port", "rollout.health_check.probe.exec", "rollout.health_check.probe.http.port or rollout.health_check.probe.tcp.port"},
		{"to", "task", "task.ports[].to"},
		{"name", "task", "name"},
		{"name", "rollout", "name"},
		{"name", "task.inputs[0]", "name"},
		{"cmd", "rollout.health_check.probe", "rollout.health_check.probe.exec.cmd"},
		{"cmd", "rollout.health_check.probe.http", "rollout.health_check.probe.exec.cmd"},
		{"cmd", "", "task.cmd"},
		{"path", "rollout.health_check.probe", "rollout.health_check.probe.http.path"},
		{"path", "task", "task.outputs[].path"},
		{"path", "task.inputs[0]", "task.outputs[].path"},
		{"timeout", "rollout.health_check", "rollout.health_check.probe.timeout"},
		{"status", "rollout.health_check.probe", "rollout.health_check.probe.http.status"},
		{"image", "", "task.image"},
	} {
		if got := validate.ElsewhereForTest(c.key, c.path); got != c.want {
			t.Errorf("elsewhere(%s, %s) = %q, want %q", c.key, c.path, got, c.want)
		}
	}
}

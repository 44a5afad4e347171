package validate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

// probe decodes rollout.health_check.probe, the field f of the health
// check h, whose interval is valid when intervalOK. It reads the job's
// type and task from d (job decodes them first).
func (d *decoder) probe(f *lang.Field, h *schema.HealthCheck, intervalOK bool) *schema.Probe {
	const p = "rollout.health_check.probe"
	if d.typeKnown && !d.jobType.LongRunning() {
		d.errorf(f.KeyRange, p, "rollout.health_check.probe applies only to service and daemon jobs; %s %s job runs to completion and has no health checks to probe: remove the probe",
			article(string(d.jobType)), d.jobType)
		return nil
	}
	fs, ok := d.fields(f.Value, p, probeFields)
	if !ok {
		return nil
	}
	var kinds []*lang.Field
	for _, k := range []string{"http", "tcp", "exec"} {
		if g := fs[k]; g != nil && present(g.Value) {
			kinds = append(kinds, g)
		}
	}
	slices.SortStableFunc(kinds, func(a, b *lang.Field) int {
		return cmp.Or(cmp.Compare(a.KeyRange.Start.Line, b.KeyRange.Start.Line), cmp.Compare(a.KeyRange.Start.Column, b.KeyRange.Start.Column))
	})
	pr := &schema.Probe{}
	switch len(kinds) {
	case 0:
		d.errorf(firstRange(f.KeyRange, f.Value.Range), p, `a probe needs one of http, tcp or exec, such as http: {port: "http", path: "/healthz"}`)
	default:
		for _, g := range kinds[1:] {
			d.errorf(g.KeyRange, p+"."+g.Key, "a probe has one of http, tcp or exec, and this one has %s already (line %d); keep one of them",
				kinds[0].Key, kinds[0].KeyRange.Start.Line)
		}
	}
	for _, g := range kinds {
		switch g.Key {
		case "http":
			pr.HTTP = d.httpProbe(g)
		case "tcp":
			pr.TCP = d.tcpProbe(g)
		case "exec":
			pr.Exec = d.execProbe(g)
		}
	}
	tf := fs["timeout"]
	before := len(d.diags)
	d.duration(tf, p+".timeout", &pr.Timeout)
	written := tf != nil && present(tf.Value)
	switch {
	case len(d.diags) > before:
		return pr
	case written && pr.Timeout == 0:
		d.errorf(tf.Value.Range, p+".timeout", "%s is 0s; a probe needs time to answer: write a duration such as %q", p+".timeout", schema.DefaultProbeTimeout.String())
		return pr
	}
	timeout := pr.Timeout
	if timeout == 0 {
		timeout = schema.DefaultProbeTimeout
	}
	if intervalOK && timeout >= h.Interval {
		is := timeout.String()
		var r lang.Range
		if written && !tf.Value.Range.IsZero() {
			r = tf.Value.Range
		} else {
			is += " (the default)"
			r = firstRange(f.KeyRange, f.Value.Range)
		}
		d.errorf(r, p+".timeout", "%s.timeout is %s, not less than rollout.health_check.interval %s: a probe must end before the next check starts; make the timeout shorter than %s, or the interval longer than %s",
			p, is, h.Interval, h.Interval, timeout)
	}
	return pr
}

func (d *decoder) httpProbe(g *lang.Field) *schema.HTTPProbe {
	const p = "rollout.health_check.probe.http"
	fs, ok := d.fields(g.Value, p, httpProbeFields)
	if !ok {
		return nil
	}
	h := &schema.HTTPProbe{}
	h.Port = d.probePort(g, fs["port"], p)
	if f := fs["path"]; f != nil && present(f.Value) {
		if s, ok := d.str(f.Value, p+".path"); ok {
			if msg := probePathProblem(s); msg != "" {
				d.errorf(f.Value.Range, p+".path", "%s %q %s", p+".path", s, msg)
			} else {
				h.Path = s
			}
		}
	}
	if f := fs["status"]; f != nil && present(f.Value) {
		items := d.list(f.Value, p+".status", "HTTP status codes")
		h.Status = make([]int, 0, len(items))
		for i, v := range items {
			ip := index(p+".status", i)
			n, ok := d.integer(v, ip, -maxSafeInt, maxSafeInt)
			switch {
			case !ok:
			case n < 100 || n > 599:
				d.errorf(v.Range, ip, "%s is %d; an HTTP status code is 100 to 599, such as 200 or 204", ip, n)
			default:
				h.Status = append(h.Status, n)
			}
		}
	}
	return h
}

func (d *decoder) tcpProbe(g *lang.Field) *schema.TCPProbe {
	const p = "rollout.health_check.probe.tcp"
	fs, ok := d.fields(g.Value, p, tcpProbeFields)
	if !ok {
		return nil
	}
	return &schema.TCPProbe{Port: d.probePort(g, fs["port"], p)}
}

func (d *decoder) execProbe(g *lang.Field) *schema.ExecProbe {
	const p = "rollout.health_check.probe.exec"
	if d.engineKnown && d.jobTask.Engine == schema.Wasm {
		d.errorf(g.KeyRange, p, "a wasm task takes no exec probe: the command would run beside the task, and a wasm module is no environment to run one in (nor, without ports, can it take an http or tcp probe)")
		return nil
	}
	fs, ok := d.fields(g.Value, p, execProbeFields)
	if !ok {
		return nil
	}
	e := &schema.ExecProbe{}
	f := fs["cmd"]
	if f == nil || !present(f.Value) {
		d.errorf(firstRange(g.KeyRange, g.Value.Range), p+".cmd", `an exec probe needs a command, such as cmd: ["/bin/check", "--ready"]; cmd[0] is the program`)
		return e
	}
	e.Cmd, _, _ = d.strings(f.Value, p+".cmd", multiLine)
	switch {
	case f.Value.Kind != lang.List:
	case len(f.Value.List) == 0:
		d.errorf(f.Value.Range, p+".cmd", `an exec probe needs a command, such as ["/bin/check", "--ready"]; cmd[0] is the program`)
	case e.Cmd[0] == "" && f.Value.List[0].Kind == lang.String:
		d.errorf(f.Value.List[0].Range, p+".cmd[0]", "%s.cmd[0] is the program to run and must not be empty", p)
	}
	return e
}

// probePort reads the port an http or tcp probe (the field g) names, the
// field f of it (nil when not written), and checks it against the task's
// ports. Not written, it is the task's only port, which normalizing fills
// in; it returns "" then.
func (d *decoder) probePort(g, f *lang.Field, p string) string {
	var name string
	if f != nil && present(f.Value) {
		s, ok := d.str(f.Value, p+".port")
		if !ok {
			return ""
		}
		name = s
	}
	if !d.portsOK || d.jobTask == nil {
		return name // the task's errors come first
	}
	ports := d.jobTask.Ports
	names := make([]string, len(ports))
	for i, port := range ports {
		names[i] = port.Name
	}
	slices.Sort(names)
	kind := map[string]string{"http": "an http", "tcp": "a tcp"}[g.Key]
	switch {
	case name == "" && len(ports) == 1:
	case name == "" && len(ports) == 0:
		d.errorf(firstRange(g.KeyRange, g.Value.Range), p+".port", "%s probe needs a port of the task, and task.ports is empty: add one, such as task.ports: [{name: \"http\"}], and the probe uses it",
			kind)
	case name == "":
		d.errorf(firstRange(g.KeyRange, g.Value.Range), p+".port", "%s probe needs a port: the task has %d (%s); name the one to probe, as port: %q",
			kind, len(ports), strings.Join(names, ", "), names[0])
	case !slices.Contains(names, name) && len(names) == 0:
		d.errorf(f.Value.Range, p+".port", "%s %q names no entry of task.ports, which is empty: add {name: %q} to task.ports", p+".port", name, name)
	case !slices.Contains(names, name):
		msg := fmt.Sprintf("%s %q names no entry of task.ports (the task has %s)", p+".port", name, strings.Join(names, ", "))
		if s := suggest(name, names); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		d.errorf(f.Value.Range, p+".port", "%s", msg)
	}
	return name
}

// probePathProblem says what is wrong with the path of an http probe, ""
// when nothing is: it matches schema.ProbePathPattern. s is one line of
// printable text (the decoder checks that first).
func probePathProblem(s string) string {
	switch {
	case s == "":
		return `is empty: write an absolute path such as "/healthz", or leave path out for "/"`
	case s[0] != '/' && strings.Contains(s, "://"):
		return `is a URL: write only its path, such as "/healthz"; the probe always asks the execution's own port`
	case s[0] != '/':
		return `must be an absolute path, starting with /, such as "/healthz"`
	case strings.HasPrefix(s, "//"):
		return "starts with //, which a client reads as a host name: write one /"
	}
	for i := 0; i < len(s); {
		c := s[i]
		at := utf8.RuneCountInString(s[:i]) + 1
		switch {
		case c == ' ':
			return fmt.Sprintf("holds a space at character %d: write it percent-encoded, as %%20", at)
		case c == '#':
			return fmt.Sprintf("holds '#' at character %d: a fragment is never sent to the server; remove it, or write %%23 for a literal #", at)
		case c >= utf8.RuneSelf:
			r, _ := utf8.DecodeRuneInString(s[i:])
			return fmt.Sprintf("holds %q at character %d: a request path is ASCII; write the character's UTF-8 bytes percent-encoded (%s)", r, at, percentEncode(r))
		case c < 0x21 || c == 0x7f:
			return fmt.Sprintf("holds the character U+%04X at character %d: write it percent-encoded", c, at)
		case c == '%':
			if i+2 >= len(s) || !isHexDigit(s[i+1]) || !isHexDigit(s[i+2]) {
				return fmt.Sprintf("holds a %% at character %d that two hex digits do not follow: write a literal %% as %%25", at)
			}
			i += 3
			continue
		}
		i++
	}
	return ""
}

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// percentEncode writes the UTF-8 bytes of r as %XX escapes.
func percentEncode(r rune) string {
	var b strings.Builder
	var buf [utf8.UTFMax]byte
	for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

package validate_test

import (
	"testing"

	"github.com/muster-dev/muster/internal/roundtrip"
	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/validate"
)

// FuzzNormalize builds job trees from fuzzed field values, so the fuzzer
// explores the validator and normalizer rather than a parser's syntax. The
// ports and the probe take the values after percent: a network, a port
// name, a host port, a container port (to), the probe's kind, its path and
// its timeout. The schedule takes the last three: its cron (no schedule
// when empty), its time zone (left out when empty) and prohibit_overlap
// (0 left out, 1 true, 2 false, else a number).
func FuzzNormalize(f *testing.F) {
	f.Add("web", "service", "docker", "web:1", "canary", "region in (b,a)", "500m", "1024Mi", "90", int64(3), int64(20),
		"bridge", "http", int64(0), int64(8080), "http", "/healthz", "1s", "", "", int64(0))
	f.Add("job", "ops", "exec", "", "immediate", "!gpu", "2", "4M", "1h", int64(1), int64(0),
		"none", "", int64(0), int64(0), "", "", "", "15 3 * JAN mon", "Europe/Berlin", int64(0))
	f.Add("m", "daemon", "wasm", "/m.wasm", "rolling", "a==b", "1", "1G", "0s", int64(0), int64(100),
		"none", "a", int64(80), int64(0), "exec", "/", "2s", "", "", int64(0))
	f.Add("dns", "service", "docker", "dns:2", "canary", "role=edge", "1", "64M", "5m", int64(2), int64(0),
		"host", "dns", int64(53), int64(0), "tcp", "", "500ms", "", "", int64(0))
	f.Add("api", "service", "exec", "", "canary", "a", "1", "64M", "5m", int64(2), int64(0),
		"none", "admin_2", int64(9000), int64(0), "exec", "/a%2F?b", "3s", "", "", int64(0))
	f.Add("sweep", "batch", "docker", "busybox:1", "immediate", "disk", "1", "64M", "5m", int64(2), int64(0),
		"none", "", int64(0), int64(0), "", "", "", "  @Daily ", "", int64(2))
	f.Add("late", "ops", "exec", "", "rolling", "a", "1", "64M", "5m", int64(1), int64(0),
		"none", "", int64(0), int64(0), "", "", "", "*/20 0-6,22 ? * sun", "America/New_York", int64(1))
	f.Fuzz(func(t *testing.T, name, typ, engine, image, strategy, expr, cpus, memory, dur string, count, percent int64,
		network, portName string, port, to int64, probeKind, probePath, probeTimeout string,
		cron, zone string, overlap int64) {
		str := func(s string) *lang.Value { return &lang.Value{Kind: lang.String, Str: s} }
		num := func(n int64) *lang.Value { return &lang.Value{Kind: lang.Number, Number: itoa(n)} }
		obj := func(kv ...any) *lang.Value {
			v := &lang.Value{Kind: lang.Map}
			for i := 0; i+1 < len(kv); i += 2 {
				v.Fields = append(v.Fields, &lang.Field{Key: kv[i].(string), Value: kv[i+1].(*lang.Value)})
			}
			return v
		}
		list := func(vs ...*lang.Value) *lang.Value { return &lang.Value{Kind: lang.List, List: vs} }
		task := obj("engine", str(engine), "cmd", list(str("run"), str(name)), "resources", obj("cpus", str(cpus), "memory", str(memory)))
		if image != "" {
			task.Fields = append(task.Fields, &lang.Field{Key: "image", Value: str(image)})
		}
		task.Fields = append(task.Fields, &lang.Field{Key: "network", Value: str(network)})
		probe := obj("timeout", str(probeTimeout))
		if portName != "" {
			first := obj("name", str(portName), "port", num(port))
			if to != 0 {
				first.Fields = append(first.Fields, &lang.Field{Key: "to", Value: num(to)})
			}
			task.Fields = append(task.Fields, &lang.Field{Key: "ports", Value: list(first, obj("name", str(portName+"_2")))})
		}
		switch probeKind {
		case "http":
			probe.Fields = append(probe.Fields, &lang.Field{Key: "http", Value: obj("port", str(portName), "path", str(probePath), "status", list(num(200+percent), num(200)))})
		case "tcp":
			probe.Fields = append(probe.Fields, &lang.Field{Key: "tcp", Value: obj("port", str(portName))})
		case "exec":
			probe.Fields = append(probe.Fields, &lang.Field{Key: "exec", Value: obj("cmd", list(str(probePath)))})
		}
		job := obj(
			"name", str(name), "type", str(typ), "count", num(count),
			"selector", obj("match_expressions", list(str(expr), str(expr))),
			"task", task,
			"rollout", obj("strategy", str(strategy), "canary_percent", num(percent), "health_check", obj("deadline", str(dur), "probe", probe)),
			"timeouts", obj("total", str(dur)),
		)
		if cron != "" {
			sched := obj("cron", str(cron))
			if zone != "" {
				sched.Fields = append(sched.Fields, &lang.Field{Key: "time_zone", Value: str(zone)})
			}
			switch overlap {
			case 0:
			case 1, 2:
				sched.Fields = append(sched.Fields, &lang.Field{Key: "prohibit_overlap", Value: &lang.Value{Kind: lang.Bool, Bool: overlap == 1}})
			default:
				sched.Fields = append(sched.Fields, &lang.Field{Key: "prohibit_overlap", Value: num(overlap)})
			}
			job.Fields = append(job.Fields, &lang.Field{Key: "schedule", Value: sched})
		}
		if testing.Verbose() {
			if _, diags := validate.Job(job); diags.HasErrors() {
				t.Logf("invalid: %v", diags)
			}
		}
		if err := roundtrip.Check([]*lang.Value{job}); err != nil {
			t.Fatal(err)
		}
	})
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	var b [24]byte
	i := len(b)
	for n != 0 {
		d := n % 10
		if d < 0 {
			d = -d
		}
		i--
		b[i] = byte('0' + d)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

package validate

import (
	"strings"

	"github.com/muster-dev/muster/lang"
	"github.com/muster-dev/muster/schema"
)

// isPortName reports whether s matches ^[a-z][a-z0-9_]{0,30}$
// (schema.PortNamePattern).
func isPortName(s string) bool {
	if s == "" || len(s) > 31 || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ports decodes task.ports, the field f of the task t whose engine and
// network are decoded (engineKnown and networkKnown say whether they are
// valid). It records in d whether the ports hold no error, for the probe,
// which names them.
func (d *decoder) ports(f *lang.Field, t *schema.Task, engineKnown, networkKnown bool) []schema.Port {
	const p = "task.ports"
	before := len(d.diags)
	defer func() { d.portsOK = len(d.diags) == before }()
	switch {
	case d.typeKnown && !d.jobType.LongRunning():
		d.errorf(f.KeyRange, p, "task.ports applies only to service and daemon jobs; %s %s job runs to completion and serves nothing: remove task.ports, or make the job a service",
			article(string(d.jobType)), d.jobType)
		return nil
	case engineKnown && t.Engine == schema.Wasm:
		d.errorf(f.KeyRange, p, "a wasm task takes no ports: a wasm module has no sockets to listen on; serve from a docker or exec task")
		return nil
	}
	items := d.list(f.Value, p, "{name, port, to} maps")
	known := engineKnown && networkKnown
	docker := known && t.Engine == schema.Docker
	unpublished := docker && t.Network == schema.NetworkNone
	if unpublished && len(items) > 0 {
		d.errorf(f.KeyRange, p, `a docker task on the network "none" cannot publish ports: set task.network to "bridge" (and map each port into the container with to) or "host"`)
	}
	out := make([]schema.Port, 0, len(items))
	names := map[string]int{} // name → index of its first port
	static := map[int]int{}   // host port → index of its first port
	for i, item := range items {
		ip := index(p, i)
		fs, ok := d.fields(item, ip, portFields)
		if !ok {
			continue
		}
		var port schema.Port
		if nf := fs["name"]; nf != nil && present(nf.Value) {
			if s, ok := d.str(nf.Value, ip+".name"); ok {
				switch {
				case !isPortName(s):
					d.errorf(nf.Value.Range, ip+".name", "%s.name %q is invalid: a port name is a lowercase letter, then at most 30 lowercase letters, digits or '_', such as \"http\" or \"admin_api\" (the task sees it as MUSTER_PORT_<NAME>)", ip, s)
				default:
					if first, dup := names[s]; dup {
						d.errorf(nf.Value.Range, ip+".name", "port name %q is used twice (first by %s); give each port its own name", s, index(p, first))
					} else {
						names[s] = i
					}
				}
				port.Name = s
			}
		} else {
			d.errorf(item.Range, ip+".name", "%s needs a name, such as name: \"http\": the task finds its port in MUSTER_PORT_<NAME>, and a probe names it", ip)
		}
		if pf := fs["port"]; pf != nil && present(pf.Value) {
			if n, ok := d.integer(pf.Value, ip+".port", -maxSafeInt, maxSafeInt); ok {
				switch {
				case n < 0 || n > schema.MaxPort:
					d.errorf(pf.Value.Range, ip+".port", "%s.port is %d; a host port is 1 to %d, or 0 (or no port) for a dynamic one that the node picks", ip, n, schema.MaxPort)
				case n != 0:
					if first, dup := static[n]; dup {
						d.errorf(pf.Value.Range, ip+".port", "host port %d is taken by %s already; give each port its own host port, or 0 for a dynamic one", n, index(p, first))
					} else {
						static[n] = i
					}
					port.Port = n
				}
			}
		}
		if tf := fs["to"]; tf != nil && present(tf.Value) {
			switch {
			case unpublished:
				// Reported once, on task.ports.
			case known && !(docker && t.Network == schema.NetworkBridge):
				d.errorf(tf.KeyRange, ip+".to", "%s.to maps a port into a docker container on the bridge network; %s listens on its host port itself (MUSTER_PORT_%s): remove to",
					ip, listener(t), strings.ToUpper(orName(port.Name)))
			default:
				if n, ok := d.integer(tf.Value, ip+".to", -maxSafeInt, maxSafeInt); ok {
					if n < 1 || n > schema.MaxPort {
						d.errorf(tf.Value.Range, ip+".to", "%s.to is %d; the port inside the container is 1 to %d (leave to out to use the host port)", ip, n, schema.MaxPort)
					} else {
						port.To = n
					}
				}
			}
		}
		out = append(out, port)
	}
	return out
}

// listener says in words what, of task t, listens on a host port itself.
func listener(t *schema.Task) string {
	if t.Engine == schema.Docker {
		return `a docker task on the network "` + string(t.Network) + `"`
	}
	return article(string(t.Engine)) + " " + string(t.Engine) + " task"
}

func orName(name string) string {
	if name == "" {
		return "<NAME>"
	}
	return name
}

package importer

import (
	"strings"

	"github.com/muster-dev/muster/lang"
)

// bacalhauNetwork translates the task's Network {Type, Domains, Ports}.
// Bacalhau's HTTP network reaches only its Domains; muster's bridge
// network reaches every host, which the warning says.
func (c *conv) bacalhauNetwork(j *job, v *lang.Value, path string) {
	n := c.object(v, path)
	if n == nil {
		return
	}
	kind, kv, kp := n.stringValue("Type")
	domains, dp := n.value("Domains")
	ports, pp := n.value("Ports")
	n.rest(func(string) string { return "not a field of a network (Type, Domains, Ports)" })
	mode := ""
	if kv != nil {
		mode = c.networkMode(j, kind, kv, kp)
	}
	if domains != nil && !empty(domains) && mode != "http" {
		c.warnf(domains.Range, dp, "dropped: Domains limit only Bacalhau's HTTP network")
	}
	if ports != nil {
		for i, p := range c.list(ports, pp) {
			c.port(j, p, index(pp, i))
		}
	}
}

// networkMode writes the network type kind (at kv, kp) as task.network
// and returns it in lower case.
func (c *conv) networkMode(j *job, kind string, kv *lang.Value, kp string) string {
	mode := strings.ToLower(strings.TrimSpace(kind))
	switch mode {
	case "", "none":
		// muster's default
	case "host", "full":
		j.set("task.network", text("host", kv.Range))
	case "bridge":
		j.set("task.network", text("bridge", kv.Range))
	case "http":
		j.set("task.network", text("bridge", kv.Range))
		c.warnf(kv.Range, kp, "the HTTP network reaches only the job's Domains; muster's bridge network, written instead, reaches every host")
	case "default":
		// What Bacalhau's executors choose: bridge for docker, host for wasm.
		net := "bridge"
		if e := j.get("task.engine"); e != nil && e.Str == "wasm" {
			net = "host"
		}
		j.set("task.network", text(net, kv.Range))
	default:
		c.errorf(kv.Range, kp, "unknown network type %q: want None, Host, Bridge, HTTP or Default", kind)
	}
	return mode
}

// port translates one port {Name, Static, Target, HostNetwork}.
func (c *conv) port(j *job, v *lang.Value, path string) {
	o := c.object(v, path)
	if o == nil {
		return
	}
	name, nv, np := o.stringValue("Name")
	static, sp := o.value("Static")
	target, tp := o.value("Target")
	o.drop("muster listens on every address of the node", "HostNetwork")
	o.rest(func(string) string { return "not a field of a port (Name, Static, Target, HostNetwork)" })
	if nv == nil {
		c.errorf(v.Range, path, "the port has no Name")
		return
	}
	low := strings.ReplaceAll(strings.ToLower(name), "-", "_")
	if low != name {
		c.warnf(nv.Range, np, "port names are lower case in muster: %q is written as %q", name, low)
	}
	c.warnf(nv.Range, np, "the task finds this port in MUSTER_PORT_%s, not in BACALHAU_PORT_%s", strings.ToUpper(low), strings.ToUpper(name))
	p := object(v.Range, "name", text(low, nv.Range))
	if static != nil {
		if n, ok := c.integer(static, sp); ok && n != 0 {
			p.Fields = append(p.Fields, &lang.Field{Key: "port", KeyRange: static.Range, Value: integerValue(n, static.Range)})
		}
	}
	if target != nil {
		if n, ok := c.integer(target, tp); ok && n != 0 {
			p.Fields = append(p.Fields, &lang.Field{Key: "to", KeyRange: target.Range, Value: integerValue(n, target.Range)})
		}
	}
	j.add("task.ports", p)
}

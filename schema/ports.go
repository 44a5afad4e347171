package schema

// MaxPort is the largest TCP port number: a static host port and a port
// inside a docker bridge task (To) are 1..MaxPort.
const MaxPort = 65535

// StaticPorts returns the ports of t that name a static host port (Port
// not 0), in t's order; nil when it has none. Two executions of a job
// with one cannot share a node.
func (t *Task) StaticPorts() []Port {
	var out []Port
	for _, p := range t.Ports {
		if p.Port != 0 {
			out = append(out, p)
		}
	}
	return out
}

// PortNamed returns the port of t called name, and whether there is one.
func (t *Task) PortNamed(name string) (Port, bool) {
	for _, p := range t.Ports {
		if p.Name == name {
			return p, true
		}
	}
	return Port{}, false
}

// PortName returns the name of the port an http or tcp probe reaches, ""
// for an exec probe, a nil probe, or a probe that names none (only before
// normalization, which fills the task's only port in).
func (p *Probe) PortName() string {
	switch {
	case p == nil:
		return ""
	case p.HTTP != nil:
		return p.HTTP.Port
	case p.TCP != nil:
		return p.TCP.Port
	}
	return ""
}

package schema

import (
	"cmp"
	"slices"
	"strings"

	"github.com/muster-dev/muster/selector"
)

// Normalize fills the defaults whose zero value means "unset" (namespace,
// type, restart policy, strategy, count, canary size, network, and those of
// a probe), drops what does not apply to the job's type, engine or
// strategy, gives every map and list a non-nil value, and puts every set in
// canonical order and spelling. The fields added after v1 are the
// exception: task.ports stays nil while empty, and a probe nil while
// unset, so that older jobs keep their canonical form. It is idempotent.
// Expressions that do not parse are kept as written (the validator reports
// them).
func Normalize(j *Job) {
	j.APIVersion = APIVersion
	if j.Namespace == "" {
		j.Namespace = DefaultNamespace
	}
	if j.Type == "" {
		j.Type = DefaultType
	}
	if j.RestartPolicy == "" {
		j.RestartPolicy = DefaultRestartPolicy(j.Type)
	}
	if !j.Type.HasCount() {
		j.Count = 0
	} else if j.Count == 0 {
		j.Count = DefaultCount
	}
	j.Labels = nonNilMap(j.Labels)
	j.Meta = nonNilMap(j.Meta)
	normalizeSchedule(j.Schedule)

	s := &j.Selector
	s.MatchLabels = nonNilMap(s.MatchLabels)
	for i, e := range s.MatchExpressions {
		if c, err := selector.Canonical(e); err == nil {
			s.MatchExpressions[i] = c
		}
	}
	s.MatchExpressions = sortedSet(s.MatchExpressions)
	s.MatchIDs = sortedSet(s.MatchIDs)

	t := &j.Task
	if t.Engine == Exec {
		t.Image = ""
	}
	if t.Engine == Docker {
		if t.Entrypoint == nil {
			t.Entrypoint = []string{}
		}
	} else {
		t.Entrypoint = nil
	}
	if t.Cmd == nil {
		t.Cmd = []string{}
	}
	t.Env = nonNilMap(t.Env)
	if t.Network == "" {
		t.Network = DefaultNetwork
	}
	if t.Inputs == nil {
		t.Inputs = []Input{}
	}
	slices.SortStableFunc(t.Inputs, func(a, b Input) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Source, b.Source))
	})
	t.Inputs = slices.Compact(t.Inputs)
	if t.Outputs == nil {
		t.Outputs = []Output{}
	}
	slices.SortFunc(t.Outputs, func(a, b Output) int { return cmp.Compare(a.Path, b.Path) })
	t.Outputs = slices.Compact(t.Outputs)
	normalizePorts(t)

	r := &j.Rollout
	if r.Strategy == "" {
		r.Strategy = DefaultStrategy(j.Type)
	}
	if r.Strategy != Canary {
		r.CanaryCount, r.CanaryPercent = 0, 0
	} else if r.CanaryPercent != 0 {
		r.CanaryCount = 0
	} else if r.CanaryCount == 0 {
		r.CanaryCount = DefaultCanaryCount
	}
	normalizeProbe(r.HealthCheck.Probe, t.Ports)
}

// normalizePorts sorts the ports by name and writes a To equal to its static
// host port as 0, which means the same. No ports is nil, so that a job
// without them keeps the canonical form it had before ports existed.
func normalizePorts(t *Task) {
	if len(t.Ports) == 0 {
		t.Ports = nil
		return
	}
	for i := range t.Ports {
		if p := &t.Ports[i]; p.Port != 0 && p.To == p.Port {
			p.To = 0
		}
	}
	slices.SortStableFunc(t.Ports, func(a, b Port) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.To, b.To))
	})
	t.Ports = slices.Compact(t.Ports)
}

// normalizeProbe fills the defaults of a probe: its timeout, an http
// probe's path and (empty) status list, sorted and de-duplicated, and the
// port of an http or tcp probe that names none when the task has exactly
// one. A nil probe stays nil.
func normalizeProbe(p *Probe, ports []Port) {
	if p == nil {
		return
	}
	if p.Timeout == 0 {
		p.Timeout = DefaultProbeTimeout
	}
	implied := func(name *string) {
		if *name == "" && len(ports) == 1 {
			*name = ports[0].Name
		}
	}
	if h := p.HTTP; h != nil {
		implied(&h.Port)
		if h.Path == "" {
			h.Path = DefaultProbePath
		}
		if h.Status == nil {
			h.Status = []int{}
		}
		slices.Sort(h.Status)
		h.Status = slices.Compact(h.Status)
	}
	if t := p.TCP; t != nil {
		implied(&t.Port)
	}
	if e := p.Exec; e != nil && e.Cmd == nil {
		e.Cmd = []string{}
	}
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func sortedSet(s []string) []string {
	if s == nil {
		return []string{}
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// normalizeSchedule writes a schedule's cron with its fields one space
// apart and in lower case (descriptors and the names of months and days
// are the same in any case: "JAN" is "jan"), and fills the default zone.
func normalizeSchedule(s *Schedule) {
	if s == nil {
		return
	}
	s.Cron = strings.ToLower(strings.Join(strings.Fields(s.Cron), " "))
	if s.TimeZone == "" {
		s.TimeZone = DefaultTimeZone
	}
}

package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// HashPrefix starts every spec hash.
const HashPrefix = "sha256:"

// Canonical returns the RFC 8785 bytes of the normalized job j. Fields that
// do not apply to j (count for ops and daemon, image for exec, entrypoint
// outside docker, canary sizes outside the canary strategy) are left out,
// and so are the fields added after v1 (task.ports,
// rollout.health_check.probe, schedule) while they are empty or unset, so that a job
// written before them keeps its bytes and hash (docs/spec.md section 3);
// every other field is present. Call it on a normalized Job: the bytes of an
// unnormalized one are well-formed but not content addresses.
func (j *Job) Canonical() []byte {
	return AppendJCS(make([]byte, 0, 1024), j.document())
}

// Hash returns "sha256:" and the lowercase hex SHA-256 of j.Canonical().
func (j *Job) Hash() string { return HashBytes(j.Canonical()) }

// HashBytes returns the spec hash of canonical bytes.
func HashBytes(canonical []byte) string {
	sum := sha256.Sum256(canonical)
	return HashPrefix + hex.EncodeToString(sum[:])
}

// Ref returns the job reference "<namespace>/<name>@sha256:<hex>".
func (j *Job) Ref() string { return j.Namespace + "/" + j.Name + "@" + j.Hash() }

func (j *Job) document() object {
	o := object{
		{"api_version", APIVersion},
		{"name", j.Name},
		{"namespace", j.Namespace},
		{"type", string(j.Type)},
		{"description", j.Description},
		{"labels", orEmpty(j.Labels)},
		{"meta", orEmpty(j.Meta)},
		{"priority", j.Priority},
		{"restart_policy", string(j.RestartPolicy)},
		{"selector", object{
			{"match_labels", orEmpty(j.Selector.MatchLabels)},
			{"match_expressions", orNone(j.Selector.MatchExpressions)},
			{"match_ids", orNone(j.Selector.MatchIDs)},
		}},
		{"task", j.Task.document()},
		{"rollout", j.Rollout.document()},
		{"timeouts", object{
			{"execution", j.Timeouts.Execution.String()},
			{"queue", j.Timeouts.Queue.String()},
			{"total", j.Timeouts.Total.String()},
		}},
	}
	if j.Type.HasCount() {
		o = append(o, member{"count", j.Count})
	}
	if j.Schedule != nil {
		o = append(o, member{"schedule", j.Schedule.document()})
	}
	return o
}

func (t *Task) document() object {
	inputs := make([]any, len(t.Inputs))
	for i, in := range t.Inputs {
		inputs[i] = object{{"source", in.Source}, {"target", in.Target}}
	}
	outputs := make([]any, len(t.Outputs))
	for i, out := range t.Outputs {
		outputs[i] = object{{"path", out.Path}}
	}
	o := object{
		{"engine", string(t.Engine)},
		{"cmd", orNone(t.Cmd)},
		{"env", orEmpty(t.Env)},
		{"workdir", t.Workdir},
		{"network", string(t.Network)},
		{"resources", object{
			{"cpus", t.Resources.CPUs},
			{"memory", t.Resources.Memory.String()},
		}},
		{"inputs", inputs},
		{"outputs", outputs},
	}
	if t.Engine != Exec {
		o = append(o, member{"image", t.Image})
	}
	if t.Engine == Docker {
		o = append(o, member{"entrypoint", orNone(t.Entrypoint)})
	}
	// Added after v1: absent while empty, so older jobs keep their bytes.
	if len(t.Ports) > 0 {
		ports := make([]any, len(t.Ports))
		for i, p := range t.Ports {
			ports[i] = p.document()
		}
		o = append(o, member{"ports", ports})
	}
	return o
}

// document leaves out a dynamic port (0) and a To of 0 (the host port),
// as the JSON tags of Port do.
func (p *Port) document() object {
	o := object{{"name", p.Name}}
	if p.Port != 0 {
		o = append(o, member{"port", p.Port})
	}
	if p.To != 0 {
		o = append(o, member{"to", p.To})
	}
	return o
}

func (r *Rollout) document() object {
	o := object{
		{"strategy", string(r.Strategy)},
		{"max_parallel", r.MaxParallel},
		{"auto_promote", r.AutoPromote},
		{"health_check", r.HealthCheck.document()},
		{"max_failed_nodes", r.MaxFailedNodes},
		{"max_failed_nodes_percent", r.MaxFailedNodesPercent},
		{"no_auto_rollback", r.NoAutoRollback},
	}
	if r.Strategy == Canary {
		o = append(o, member{"canary_count", r.CanaryCount}, member{"canary_percent", r.CanaryPercent})
	}
	return o
}

func (h *HealthCheck) document() object {
	o := object{
		{"deadline", h.Deadline.String()},
		{"min_healthy_time", h.MinHealthyTime.String()},
		{"interval", h.Interval.String()},
		{"failure_threshold", h.FailureThreshold},
		{"success_threshold", h.SuccessThreshold},
		{"max_error_rate", h.MaxErrorRate},
	}
	// Added after v1: absent while unset, so older jobs keep their bytes.
	if h.Probe != nil {
		o = append(o, member{"probe", h.Probe.document()})
	}
	return o
}

// document writes the probe's one kind and its timeout.
func (p *Probe) document() object {
	o := object{{"timeout", p.Timeout.String()}}
	if h := p.HTTP; h != nil {
		status := make([]any, len(h.Status))
		for i, c := range h.Status {
			status[i] = c
		}
		o = append(o, member{"http", object{{"port", h.Port}, {"path", h.Path}, {"status", status}}})
	}
	if t := p.TCP; t != nil {
		o = append(o, member{"tcp", object{{"port", t.Port}}})
	}
	if e := p.Exec; e != nil {
		o = append(o, member{"exec", object{{"cmd", orNone(e.Cmd)}}})
	}
	return o
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func orNone(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// FromCanonical decodes canonical spec bytes (as stored under their hash)
// back into a normalized Job, and checks that it hashes to the same
// address: bytes that do not read back exactly are an error.
func FromCanonical(b []byte) (*Job, error) {
	var j Job
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("spec %s: %w", HashBytes(b), err)
	}
	Normalize(&j)
	if got, want := j.Hash(), HashBytes(b); got != want {
		return nil, fmt.Errorf("spec %s reads back as %s", want, got)
	}
	return &j, nil
}

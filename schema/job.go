package schema

// Job is one normalized job spec. The zero Job is not valid; a Job that went
// through validate (or Normalize after its fields were checked) has every
// default filled and every set sorted, so equal jobs are equal Go values and
// encode to identical canonical bytes.
type Job struct {
	// APIVersion is always "muster/v1" once normalized.
	APIVersion string `json:"api_version"`
	// Name identifies the job inside its namespace: DNS label, at most 63.
	Name string `json:"name"`
	// Namespace groups jobs; "default" when unset.
	Namespace string `json:"namespace"`
	// Type is batch, ops, service or daemon; "batch" when unset.
	Type JobType `json:"type"`
	// Description is free text of at most 1024 characters.
	Description string `json:"description"`
	// Labels are Kubernetes-style labels of the job itself. Never nil once
	// normalized.
	Labels map[string]string `json:"labels"`
	// Meta is free-form metadata; keys under muster.dev/ are reserved.
	Meta map[string]string `json:"meta"`
	// Priority is 0..100, 50 when unset.
	Priority int `json:"priority"`
	// Count is the number of executions of a batch or service job (at
	// least 1). It is 0, and absent from the canonical form, for ops and
	// daemon jobs, which run once per matching node.
	Count int `json:"count,omitempty"`
	// RestartPolicy is on-failure, always or never; the default depends on
	// Type.
	RestartPolicy RestartPolicy `json:"restart_policy"`
	// Selector picks the nodes the job may run on.
	Selector Selector `json:"selector"`
	// Task says what each execution runs.
	Task Task `json:"task"`
	// Rollout says how a new version replaces the old one.
	Rollout Rollout `json:"rollout"`
	// Timeouts bound the time a job may wait, run and take in all.
	Timeouts Timeouts `json:"timeouts"`
	// Schedule, for a batch or ops job, launches it periodically. Added
	// after v1: nil, and absent from the canonical form, when unset.
	Schedule *Schedule `json:"schedule,omitempty"`
}

// JobType is the kind of work a job does.
type JobType string

// The job types.
const (
	Batch   JobType = "batch"
	Ops     JobType = "ops"
	Service JobType = "service"
	Daemon  JobType = "daemon"
)

// HasCount reports whether jobs of type t take a count (batch and service).
func (t JobType) HasCount() bool { return t == Batch || t == Service }

// LongRunning reports whether jobs of type t keep running (service, daemon).
func (t JobType) LongRunning() bool { return t == Service || t == Daemon }

// RestartPolicy says when an execution that ended is started again.
type RestartPolicy string

// The restart policies.
const (
	OnFailure RestartPolicy = "on-failure"
	Always    RestartPolicy = "always"
	Never     RestartPolicy = "never"
)

// Selector chooses nodes by labels, expressions and ids; all three must hold.
// Once normalized the maps and slices are non-nil, expressions are in
// canonical form, and both lists are sorted and de-duplicated.
type Selector struct {
	MatchLabels      map[string]string `json:"match_labels"`
	MatchExpressions []string          `json:"match_expressions"`
	MatchIDs         []string          `json:"match_ids"`
}

// Engine names the driver that runs a task.
type Engine string

// The engines.
const (
	Docker Engine = "docker"
	Exec   Engine = "exec"
	Wasm   Engine = "wasm"
)

// Network is the network mode of a task.
type Network string

// The network modes.
const (
	NetworkNone   Network = "none"
	NetworkBridge Network = "bridge"
	NetworkHost   Network = "host"
)

// Task is what one execution runs.
type Task struct {
	// Engine is docker, exec or wasm.
	Engine Engine `json:"engine"`
	// Image is the docker image reference or the wasm module; empty (and
	// absent from the canonical form) for exec.
	Image string `json:"image,omitempty"`
	// Entrypoint overrides the image entrypoint. Docker only: nil (absent
	// from the canonical form) for other engines, non-nil for docker.
	Entrypoint []string `json:"entrypoint,omitempty"`
	// Cmd is the command: for exec cmd[0] is the program; for docker it
	// overrides the image command; for wasm it is the arguments.
	Cmd []string `json:"cmd"`
	// Env is the task environment; MUSTER_* and PATH are reserved.
	Env map[string]string `json:"env"`
	// Workdir is an absolute, clean path or empty.
	Workdir string `json:"workdir"`
	// Network is none, bridge or host.
	Network Network `json:"network"`
	// Resources are the limits of one execution.
	Resources Resources `json:"resources"`
	// Inputs are placed in the execution root before it starts, sorted by
	// target once normalized.
	Inputs []Input `json:"inputs"`
	// Outputs are collected after it ends, sorted by path once normalized.
	Outputs []Output `json:"outputs"`
	// Ports are the ports a service or daemon execution listens on, sorted
	// by name once normalized. Added after v1: nil, and absent from the
	// canonical form, when the job has none.
	Ports []Port `json:"ports,omitempty"`
}

// Port is one port an execution listens on. The task sees its host port
// in MUSTER_PORT_<NAME> (the name in upper case). The zero Port is not
// valid: a port needs a name.
type Port struct {
	// Name is ^[a-z][a-z0-9_]{0,30}$, unique in the task; probes refer to
	// the port by it.
	Name string `json:"name"`
	// Port is a static host port, 1..65535, or 0 (absent from the
	// canonical form) for a dynamic one the node picks from its free range.
	Port int `json:"port,omitempty"`
	// To is the port inside a docker bridge task, 1..65535; 0 (absent)
	// means the same as the host port. Normalizing writes a To equal to a
	// static Port as 0. Other engines and networks have no To.
	To int `json:"to,omitempty"`
}

// Resources are the limits of one execution.
type Resources struct {
	// CPUs is a number of cores, > 0 and <= 1024.
	CPUs float64 `json:"cpus"`
	// Memory is the memory limit, at least 4 MiB.
	Memory Memory `json:"memory"`
}

// Input places a source at a target path inside the execution root.
type Input struct {
	Source string `json:"source"`
	Target string `json:"target"`
}

// Output names a path inside the execution root collected after the run.
type Output struct {
	Path string `json:"path"`
}

// Strategy is how a rollout replaces executions.
type Strategy string

// The rollout strategies.
const (
	Immediate Strategy = "immediate"
	Rolling   Strategy = "rolling"
	Canary    Strategy = "canary"
)

// Rollout says how a new job version replaces the old one.
type Rollout struct {
	// Strategy is immediate, rolling or canary; the default depends on the
	// job type.
	Strategy Strategy `json:"strategy"`
	// MaxParallel is the percent of target nodes per wave, 1..100.
	MaxParallel int `json:"max_parallel"`
	// CanaryCount and CanaryPercent size the canary set. They exist only
	// for the canary strategy (zero and absent from the canonical form
	// otherwise); once normalized exactly one of them is non-zero.
	CanaryCount   int `json:"canary_count,omitempty"`
	CanaryPercent int `json:"canary_percent,omitempty"`
	// AutoPromote promotes a healthy canary without `muster promote`.
	AutoPromote bool `json:"auto_promote"`
	// HealthCheck says when an execution counts as healthy.
	HealthCheck HealthCheck `json:"health_check"`
	// MaxFailedNodes and MaxFailedNodesPercent bound the failures a
	// rollout tolerates before it fails.
	MaxFailedNodes        int     `json:"max_failed_nodes"`
	MaxFailedNodesPercent float64 `json:"max_failed_nodes_percent"`
	// NoAutoRollback keeps a failed version in place instead of rolling
	// back to the last stable one.
	NoAutoRollback bool `json:"no_auto_rollback"`
}

// HealthCheck says when an execution counts as healthy.
type HealthCheck struct {
	Deadline         Duration `json:"deadline"`
	MinHealthyTime   Duration `json:"min_healthy_time"`
	Interval         Duration `json:"interval"`
	FailureThreshold int      `json:"failure_threshold"`
	SuccessThreshold int      `json:"success_threshold"`
	MaxErrorRate     float64  `json:"max_error_rate"`
	// Probe, when set, is what each health check runs against the
	// execution; without one a check passes while the execution runs.
	// Added after v1: nil, and absent from the canonical form, when unset.
	Probe *Probe `json:"probe,omitempty"`
}

// Probe checks that an execution serves: exactly one of HTTP, TCP and
// Exec is set. Probes exist for service and daemon jobs only; an exec
// probe not for wasm tasks. The zero Probe is not valid.
type Probe struct {
	HTTP *HTTPProbe `json:"http,omitempty"`
	TCP  *TCPProbe  `json:"tcp,omitempty"`
	Exec *ExecProbe `json:"exec,omitempty"`
	// Timeout bounds one probe: more than 0, less than the health check's
	// interval; 0 before normalization means the default, 2s.
	Timeout Duration `json:"timeout"`
}

// Kind names the probe's kind: "http", "tcp" or "exec" ("" when none is
// set).
func (p *Probe) Kind() string {
	switch {
	case p == nil:
		return ""
	case p.HTTP != nil:
		return "http"
	case p.TCP != nil:
		return "tcp"
	case p.Exec != nil:
		return "exec"
	}
	return ""
}

// HTTPProbe passes when a GET of Path on the named port answers with an
// accepted status.
type HTTPProbe struct {
	// Port names an entry of task.ports. Normalizing fills in the task's
	// only port when the probe names none.
	Port string `json:"port"`
	// Path is the absolute path (and optional query) of the request:
	// printable ASCII without '#', other characters percent-encoded; "/"
	// by default.
	Path string `json:"path"`
	// Status lists the accepted status codes, sorted and de-duplicated
	// once normalized; empty accepts any 2xx or 3xx.
	Status []int `json:"status"`
}

// Accepts reports whether an answer with status code accepts the probe.
func (h *HTTPProbe) Accepts(code int) bool {
	if len(h.Status) == 0 {
		return code >= 200 && code < 400
	}
	for _, c := range h.Status {
		if c == code {
			return true
		}
	}
	return false
}

// TCPProbe passes when a connection to the named port opens.
type TCPProbe struct {
	// Port names an entry of task.ports, filled in as an HTTPProbe's.
	Port string `json:"port"`
}

// ExecProbe passes when Cmd exits 0, run inside the task's environment
// (in the container for docker).
type ExecProbe struct {
	// Cmd is the command: not empty, Cmd[0] the program.
	Cmd []string `json:"cmd"`
}

// Timeouts bound a job; zero means none.
type Timeouts struct {
	Execution Duration `json:"execution"`
	Queue     Duration `json:"queue"`
	Total     Duration `json:"total"`
}

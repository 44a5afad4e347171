package schema

import "time"

// The defaults of docs/spec.md section 2 that do not depend on the job type.
const (
	DefaultNamespace               = "default"
	DefaultType                    = Batch
	DefaultPriority                = 50
	DefaultCount                   = 1
	DefaultNetwork                 = NetworkNone
	DefaultCPUs                    = 1.0
	DefaultMemory           Memory = 256
	DefaultMaxParallel             = 10
	DefaultCanaryCount             = 1
	DefaultDeadline                = Duration(5 * time.Minute)
	DefaultMinHealthyTime          = Duration(30 * time.Second)
	DefaultInterval                = Duration(10 * time.Second)
	DefaultFailureThreshold        = 3
	DefaultSuccessThreshold        = 2
	DefaultMaxErrorRate            = 0.10
	DefaultMaxFailedNodes          = 10
	DefaultMaxFailedPercent        = 10.0
	DefaultProbeTimeout            = Duration(2 * time.Second)
	DefaultProbePath               = "/"
)

// DefaultRestartPolicy is on-failure for batch and ops, always for service
// and daemon.
func DefaultRestartPolicy(t JobType) RestartPolicy {
	if t.LongRunning() {
		return Always
	}
	return OnFailure
}

// DefaultStrategy is immediate for batch and ops, rolling for service and
// daemon.
func DefaultStrategy(t JobType) Strategy {
	if t.LongRunning() {
		return Rolling
	}
	return Immediate
}

// NewJob returns a Job holding every default whose zero value is a valid
// setting (priority, max_parallel, health check, failure limits, resources),
// so that a decoder can overwrite what the file sets and leave the rest.
// Defaults whose zero value means "unset" are filled by Normalize.
func NewJob() Job {
	return Job{
		APIVersion: APIVersion,
		Priority:   DefaultPriority,
		Task: Task{
			Network:   DefaultNetwork,
			Resources: Resources{CPUs: DefaultCPUs, Memory: DefaultMemory},
		},
		Rollout: Rollout{
			MaxParallel: DefaultMaxParallel,
			HealthCheck: HealthCheck{
				Deadline:         DefaultDeadline,
				MinHealthyTime:   DefaultMinHealthyTime,
				Interval:         DefaultInterval,
				FailureThreshold: DefaultFailureThreshold,
				SuccessThreshold: DefaultSuccessThreshold,
				MaxErrorRate:     DefaultMaxErrorRate,
			},
			MaxFailedNodes:        DefaultMaxFailedNodes,
			MaxFailedNodesPercent: DefaultMaxFailedPercent,
		},
	}
}

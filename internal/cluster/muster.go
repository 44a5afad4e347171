package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/muster-dev/muster/internal/wait"
)

// cliTimeout bounds one muster command run from the host.
const cliTimeout = 2 * time.Minute

// Result is what one muster command printed, and how it ended.
type Result struct {
	Args           []string
	Stdout, Stderr string
	Err            error
}

// String shows the command and all it printed, for failure messages.
func (r Result) String() string {
	return fmt.Sprintf("muster %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(r.Args, " "), r.Err, r.Stdout, r.Stderr)
}

// standingBy reports whether the command met a control plane that stands
// by, or none at all, so that another should be asked.
func (r Result) standingBy() bool {
	out := r.Stdout + r.Stderr
	return strings.Contains(out, "stands by") || strings.Contains(out, "connection refused") ||
		strings.Contains(out, "EOF") || strings.Contains(out, "connection reset")
}

// Command returns the muster command args against the control plane x's
// published API, with the cluster's token, not yet started.
func (c *Cluster) Command(ctx context.Context, x *Container, args ...string) *exec.Cmd {
	c.t.Helper()
	cmd := exec.CommandContext(ctx, c.image.Muster, append(args, "--addr", x.HostPort(apiPort))...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "MUSTER_TOKEN="+c.Token, "MUSTER_TLS_CA="+c.TLS.CA, "MUSTER_STATE_DIR="+filepath.Join(c.dir, "none"), "NO_COLOR=1")
	return cmd
}

// MusterAt runs muster args against control plane x.
func (c *Cluster) MusterAt(x *Container, args ...string) Result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cliTimeout)
	defer cancel()
	cmd := c.Command(ctx, x, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return Result{Args: args, Stdout: stdout.String(), Stderr: stderr.String(), Err: err}
}

// Muster runs muster args against the first control plane that answers
// (one that stands by, or is down, passes the command on to the next).
func (c *Cluster) Muster(args ...string) Result {
	c.t.Helper()
	var r Result
	for _, x := range c.Servers {
		if r = c.MusterAt(x, args...); !r.standingBy() {
			return r
		}
	}
	return r
}

// OK runs muster args like Muster and fails t unless it succeeds.
func (c *Cluster) OK(args ...string) string {
	c.t.Helper()
	r := c.Muster(args...)
	if r.Err != nil {
		c.t.Fatal(r)
	}
	return r.Stdout
}

// Leaders returns the control planes that say they lead (see Leads).
func (c *Cluster) Leaders() []*Container {
	var l []*Container
	for _, x := range c.Servers {
		if x.Leads() {
			l = append(l, x)
		}
	}
	return l
}

// WaitLeader waits until exactly one control plane says it leads and
// answers the API, and returns it.
func (c *Cluster) WaitLeader() *Container {
	c.t.Helper()
	x, _ := wait.For(c.t, 30*time.Second, "one leading control plane that answers", func() (string, bool) {
		l := c.Leaders()
		if len(l) != 1 {
			return fmt.Sprintf("%d leading", len(l)), false
		}
		r := c.MusterAt(l[0], "nodes", "-o", "json")
		return l[0].Alias, r.Err == nil
	})
	return c.Container(x)
}

// Node is a node as `muster nodes -o json` lists it.
type Node struct {
	ID string `json:"id"`
}

// WaitNodes waits until the control plane lists n nodes.
func (c *Cluster) WaitNodes(n int) {
	c.t.Helper()
	wait.For(c.t, 30*time.Second, fmt.Sprintf("%d nodes", n), func() (string, bool) {
		r := c.Muster("nodes", "-o", "json")
		var nodes []Node
		if r.Err != nil || json.Unmarshal([]byte(r.Stdout), &nodes) != nil {
			return r.String(), false
		}
		return r.Stdout, len(nodes) >= n
	})
}

// Execution is an execution as `muster executions -o json` lists it.
type Execution struct {
	ID         string `json:"id"`
	JobVersion int    `json:"job_version"`
	NodeID     string `json:"node_id"`
	Previous   string `json:"previous_execution_id"`
	Next       string `json:"next_execution_id"`
	Status     struct {
		ComputeState StateType `json:"compute_state"`
		DesiredState StateType `json:"desired_state"`
	} `json:"status"`
}

// StateType is a state of `muster ... -o json`, an object {state_type,
// message} (docs/api.md), read as the name of its type.
type StateType string

// UnmarshalJSON reads a state object.
func (s *StateType) UnmarshalJSON(b []byte) error {
	var st struct {
		Type string `json:"state_type"`
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return err
	}
	*s = StateType(st.Type)
	return nil
}

// Running reports whether the execution runs, by the state.
func (e Execution) Running() bool { return e.Status.ComputeState == "running" }

// Executions lists every execution of job (--all), or returns the failed
// command.
func (c *Cluster) Executions(job string) ([]Execution, error) {
	c.t.Helper()
	r := c.Muster("executions", "--all", "-o", "json", job)
	if r.Err != nil {
		return nil, fmt.Errorf("%s", r)
	}
	var xs []Execution
	if err := json.Unmarshal([]byte(r.Stdout), &xs); err != nil {
		return nil, fmt.Errorf("%s: %w", r, err)
	}
	return xs, nil
}

// Count is the running executions of a job: by version and by node as the
// state has them, and the task processes each agent's container really
// runs.
type Count struct {
	// ByVersion and ByNode count the executions the state says run.
	ByVersion, ByNode map[string]int
	// Processes counts the task processes in each agent's container.
	Processes map[string]int
	// Running is the number of running executions.
	Running int
}

// String is the count on one line, for logs and failure messages.
func (n Count) String() string {
	return fmt.Sprintf("running %d: by version %v, by node %v; task processes by agent %v", n.Running, n.ByVersion, n.ByNode, n.Processes)
}

// TotalProcesses is the number of task processes over every agent.
func (n Count) TotalProcesses() int {
	s := 0
	for _, p := range n.Processes {
		s += p
	}
	return s
}

// Count counts job's running executions and the task processes of every
// agent.
func (c *Cluster) Count(job string) (Count, error) {
	c.t.Helper()
	xs, err := c.Executions(job)
	if err != nil {
		return Count{}, err
	}
	n := Count{ByVersion: map[string]int{}, ByNode: map[string]int{}, Processes: map[string]int{}}
	for _, x := range xs {
		if x.Running() {
			n.Running++
			n.ByVersion[fmt.Sprint(x.JobVersion)]++
			n.ByNode[x.NodeID]++
		}
	}
	for _, a := range c.Agents {
		p, err := a.Processes(TaskProgram)
		if err != nil {
			return n, err
		}
		n.Processes[a.Alias] = p
	}
	return n, nil
}

// TaskProgram is the program the service jobs of ServiceJob run.
const TaskProgram = "/bin/task"

// ServiceJob writes a service job of count executions of the image's task
// program, at version v (a value in its environment: a new v is a new
// version), rolled one execution at a time, each healthy after
// minHealthy, and returns the file.
func (c *Cluster) ServiceJob(name string, count int, v string, minHealthy time.Duration) string {
	c.t.Helper()
	job := fmt.Sprintf(`name: %s
type: service
count: %d
task:
  engine: exec
  cmd: [%s, serve]
  env: {V: %q}
rollout:
  strategy: rolling
  max_parallel: 1
  health_check: {min_healthy_time: %s, interval: 100ms, success_threshold: 1}
`, name, count, TaskProgram, v, minHealthy)
	p := filepath.Join(c.dir, name+".yaml")
	if err := os.WriteFile(p, []byte(job), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// Stream is a JetStream stream of the cluster, as its info has it.
type Stream struct {
	Name     string
	Replicas int
	// Leader is the alias of the NATS server leading it.
	Leader string
}

// Streams lists every stream of the account.
func (c *Cluster) Streams() ([]Stream, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ss []Stream
	l := c.JetStream().ListStreams(ctx)
	for info := range l.Info() {
		s := Stream{Name: info.Config.Name, Replicas: info.Config.Replicas}
		if info.Cluster != nil {
			s.Leader = info.Cluster.Leader
		}
		ss = append(ss, s)
	}
	return ss, l.Err()
}

// StreamLeader waits until stream has a leader and returns its container.
func (c *Cluster) StreamLeader(stream string) *Container {
	c.t.Helper()
	js := c.JetStream()
	leader, _ := wait.For(c.t, 30*time.Second, "a leader of stream "+stream, func() (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, stream)
		if err != nil {
			return err.Error(), false
		}
		info, err := s.Info(ctx)
		if err != nil || info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Sprint(err), false
		}
		return info.Cluster.Leader, true
	})
	return c.Container(leader)
}

// JobsStream is the stream that holds the jobs bucket.
const JobsStream = "KV_jobs"

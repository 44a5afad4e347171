package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/muster-dev/muster/state"
)

// Source is what the scrape-time gauges read: every job's status, each
// job's executions and every node. *state.Store is one.
type Source interface {
	Jobs(ctx context.Context) ([]state.JobStatus, error)
	Executions(ctx context.Context, ns, name string) ([]state.Execution, error)
	Nodes(ctx context.Context) ([]state.Node, error)
}

var _ Source = (*state.Store)(nil)

// scrapeTimeout bounds the store reads of one scrape, under Prometheus'
// default scrape timeout of 10s.
const scrapeTimeout = 8 * time.Second

// The gauges read from the store at each scrape.
var (
	jobsDesc = prometheus.NewDesc("muster_jobs",
		"Jobs by namespace and state (every state of every namespace that has a job, 0 included).",
		[]string{"namespace", "state"}, nil)
	executionsDesc = prometheus.NewDesc("muster_executions",
		"Executions that have not ended (pending, starting, running, degraded, stopping), by compute state and node.",
		[]string{"state", "node"}, nil)
	nodesDesc = prometheus.NewDesc("muster_nodes",
		"Nodes by the status they last recorded (ready, down, ...).",
		[]string{"status"}, nil)
	heartbeatAgeDesc = prometheus.NewDesc("muster_node_heartbeat_age_seconds",
		"Seconds since each node last recorded a heartbeat, by this control plane's clock.",
		[]string{"node"}, nil)
)

// activeStates are the compute states of executions that have not ended:
// muster_executions counts those.
var activeStates = activeComputeStates()

func activeComputeStates() []state.ComputeState {
	var out []state.ComputeState
	for _, s := range state.ComputeStates {
		if s.Active() {
			out = append(out, s)
		}
	}
	return out
}

// storeCollector reads the gauges from the store at each scrape.
type storeCollector struct {
	src Source
	now func() time.Time
}

func newStoreCollector(src Source) *storeCollector {
	return &storeCollector{src: src, now: time.Now}
}

// Describe sends the descriptions of the gauges.
func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{jobsDesc, executionsDesc, nodesDesc, heartbeatAgeDesc} {
		ch <- d
	}
}

// Collect reads the jobs, their executions and the nodes, and sends the
// gauges. A read that fails makes its gauges invalid metrics, which the
// handler reports and leaves out; the others are sent.
func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	nodes, err := c.src.Nodes(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(nodesDesc, err)
		ch <- prometheus.NewInvalidMetric(heartbeatAgeDesc, err)
	} else {
		c.collectNodes(ch, nodes)
	}
	jobs, err := c.src.Jobs(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobsDesc, err)
		ch <- prometheus.NewInvalidMetric(executionsDesc, err)
		return
	}
	collectJobs(ch, jobs)
	if err := c.collectExecutions(ctx, ch, jobs, nodes); err != nil {
		ch <- prometheus.NewInvalidMetric(executionsDesc, err)
	}
}

// collectNodes sends the nodes by status and the age of each one's last
// heartbeat.
func (c *storeCollector) collectNodes(ch chan<- prometheus.Metric, nodes []state.Node) {
	byStatus := map[string]int{state.NodeReady: 0, state.NodeDown: 0}
	now := c.now()
	for _, n := range nodes {
		byStatus[n.Status]++
		if !n.LastSeen.IsZero() {
			ch <- gauge(heartbeatAgeDesc, now.Sub(n.LastSeen).Seconds(), n.ID)
		}
	}
	for status, n := range byStatus {
		ch <- gauge(nodesDesc, float64(n), status)
	}
}

// collectJobs sends the jobs by namespace and state: every state of each
// namespace, so that a state with no job reads 0, not absent.
func collectJobs(ch chan<- prometheus.Metric, jobs []state.JobStatus) {
	counts := map[string]map[state.JobState]int{}
	for _, j := range jobs {
		if counts[j.Namespace] == nil {
			counts[j.Namespace] = map[state.JobState]int{}
		}
		counts[j.Namespace][j.State]++
	}
	for ns, byState := range counts {
		for _, s := range state.JobStates {
			ch <- gauge(jobsDesc, float64(byState[s]), ns, string(s))
		}
	}
}

// collectExecutions sends the executions that have not ended by state and
// node: every such state of each node listed (0 included), and of any
// other node an execution names.
func (c *storeCollector) collectExecutions(ctx context.Context, ch chan<- prometheus.Metric, jobs []state.JobStatus, nodes []state.Node) error {
	type key struct {
		state state.ComputeState
		node  string
	}
	counts := map[key]int{}
	for _, n := range nodes {
		for _, s := range activeStates {
			counts[key{s, n.ID}] = 0
		}
	}
	for _, j := range jobs {
		execs, err := c.src.Executions(ctx, j.Namespace, j.Name)
		if err != nil {
			return err
		}
		for _, x := range execs {
			if x.Status.ComputeState.Active() {
				counts[key{x.Status.ComputeState, x.NodeID}]++
			}
		}
	}
	for k, n := range counts {
		ch <- gauge(executionsDesc, float64(n), string(k.state), k.node)
	}
	return nil
}

// gauge is a constant gauge of desc.
func gauge(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
}

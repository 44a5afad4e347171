package metrics

import "github.com/prometheus/client_golang/prometheus"

// heartbeatsTotal counts the heartbeats of the node agents of this
// process.
var heartbeatsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "muster_agent_heartbeats_total",
	Help: "Heartbeats a node agent of this process sent, by outcome (ok: recorded in the store; error: not recorded).",
}, []string{"outcome"})

func init() {
	heartbeatsTotal.WithLabelValues("ok")
	heartbeatsTotal.WithLabelValues("error")
}

// HeartbeatSent counts a heartbeat of a node agent: recorded when err is
// nil, failed otherwise.
func HeartbeatSent(err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	heartbeatsTotal.WithLabelValues(outcome).Inc()
}

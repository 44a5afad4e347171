package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/muster-dev/muster/state"
)

// The rollouts that ended in this process, by outcome.
var (
	rolloutsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "muster_rollouts_total",
		Help: "Rollouts that ended while this process drove them, by outcome (completed, failed, rolled_back, superseded, stopped).",
	}, []string{"outcome"})
	rolloutDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "muster_rollout_duration_seconds",
		Help:    "Time from the start of a rollout to its end (started_at to ended_at of its record), by outcome.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 14), // 1s to about 2h15m
	}, []string{"outcome"})
)

func init() {
	// Every outcome reads 0 until one ends so, rather than absent.
	for _, o := range state.Outcomes {
		rolloutsTotal.WithLabelValues(o)
		rolloutDuration.WithLabelValues(o)
	}
}

// RolloutEnded counts a rollout that ended with outcome (one of
// state.Outcomes) and observes how long it took, from its record's
// StartedAt to its EndedAt (a negative span counts as 0). Call it once per
// rollout, where its record first gets an outcome.
func RolloutEnded(outcome string, started, ended time.Time) {
	rolloutsTotal.WithLabelValues(outcome).Inc()
	rolloutDuration.WithLabelValues(outcome).Observe(max(ended.Sub(started).Seconds(), 0))
}

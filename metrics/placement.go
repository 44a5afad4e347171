package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// placementDuration times the placements of the rollout engine.
var placementDuration = prometheus.NewHistogram(prometheus.HistogramOpts{
	Name:    "muster_placement_duration_seconds",
	Help:    "Time to place a rollout's executions, or the rest of them that waited for room, on the nodes: reading the nodes and their load, and choosing.",
	Buckets: fastBuckets,
})

// fastBuckets are the buckets of what usually takes milliseconds: 0.5ms
// to 10s.
var fastBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// ObservePlacement observes a placement that began at began and ends now.
func ObservePlacement(began time.Time) {
	placementDuration.Observe(time.Since(began).Seconds())
}

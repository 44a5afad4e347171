package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/muster-dev/muster/state"
)

// storeDuration times the store's operations (see state.Operations).
var storeDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
	Name:    "muster_store_operation_duration_seconds",
	Help:    "Time of the state store's operations on NATS JetStream (get, list, create, update, put, delete, publish), retries included, by outcome (ok, or error when JetStream gave no answer or refused).",
	Buckets: fastBuckets,
}, []string{"op", "outcome"})

func init() {
	for _, op := range state.Operations {
		storeDuration.WithLabelValues(op, "ok")
	}
}

// observeStore is the state.OperationObserver that feeds storeDuration.
func observeStore(op string, took time.Duration, failed bool) {
	outcome := "ok"
	if failed {
		outcome = "error"
	}
	storeDuration.WithLabelValues(op, outcome).Observe(took.Seconds())
}

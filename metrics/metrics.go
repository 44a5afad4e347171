package metrics

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/muster-dev/muster/state"
)

// Metrics is the registry a control plane serves: the store's gauges read
// at each scrape, the process's counters and histograms, its API requests,
// and the Go runtime and process collectors. Make it with New.
type Metrics struct {
	reg  *prometheus.Registry
	http *httpMetrics
	log  *slog.Logger
}

// New returns the metrics of a control plane that reads its gauges from
// src (a *state.Store) at each scrape, and logs the scrapes that failed
// to l (nil: nowhere). It also makes every store of the process report
// its operations to muster_store_operation_duration_seconds (see
// state.ObserveOperations). Calling it again makes another registry of
// the same process-wide counters.
func New(src Source, l *slog.Logger) *Metrics {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	m := &Metrics{reg: prometheus.NewRegistry(), http: newHTTPMetrics(), log: l.With("component", "metrics")}
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newStoreCollector(src),
		m.http,
		rolloutDuration, rolloutsTotal, placementDuration, storeDuration, heartbeatsTotal,
	)
	state.ObserveOperations(observeStore)
	return m
}

// Handler serves the metrics in Prometheus' text (or a negotiated)
// format. A scrape whose store reads failed serves the rest, leaves the
// failed gauges out, logs why and counts it in
// promhttp_metric_handler_errors_total.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      scrapeLog{m.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg,
	})
}

// Gatherer is the registry, for tests and for serving it some other way.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// scrapeLog is a promhttp.Logger over slog.
type scrapeLog struct{ l *slog.Logger }

// Println logs a failed scrape as a warning.
func (s scrapeLog) Println(v ...any) {
	s.l.Warn("a scrape failed in part", "err", fmt.Sprint(v...))
}

// Package metrics is what muster exposes to Prometheus: the metrics that
// `muster dev` and `muster server` serve at /metrics (docs/metrics.md lists
// every one).
//
// Two kinds of metric are kept. Gauges of what the store holds (jobs by
// state, executions by state and node, nodes by status and the age of
// their last heartbeat) are read from the store at each scrape by a
// collector made by New. Counters and histograms of what happens
// (rollouts that end, placements, store operations, heartbeats, API
// requests) are observed where it happens: the package-level functions
// RolloutEnded, ObservePlacement and HeartbeatSent are called from the
// packages that do it, and New routes the state package's operation
// timings in. They count for the whole process, from its start.
//
// Every metric is named muster_*, beside the Go runtime's (go_*) and the
// process's (process_*), in a registry of its own: nothing registered in
// Prometheus' default registry is served.
package metrics

// Package hoptrace times the hops of a message from the REST publish to
// the end of its fan-out (docs/performance.md, "Per-hop timing"): fixed
// hops, one lock-free log-linear histogram each, exported to Prometheus
// as herald_hop_duration_seconds{hop}. It is opt-in (--trace-hops): the
// hot path holds a nil *Recorder when it is off and takes no time stamp.
package hoptrace

// Package billing meters what each app uses and folds it into periods a
// bill can be written from (docs/billing.md states the counting rules).
//
// It imports only bus and channels: counters live in each process (the
// gateway counts deliveries, the control plane API requests), flushes
// travel on the bus, and the aggregator writes through a Store that
// controlplane/postgres implements. This file's package holds the pure
// vocabulary both sides share: the counters, the granularities and the
// rules for ranges of periods.
package billing

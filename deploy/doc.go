// Package deploy holds Herald's deployment files (the compose topology in
// compose/, the Helm chart in helm/herald, the Prometheus rules in
// prometheus/ and the Grafana dashboard in grafana/) and the tests that
// check them without a container runtime: the files parse, describe the
// production topology (3 NATS servers, PostgreSQL, migrations first, 2
// control planes, 2 gateways behind a load balancer), every herald flag
// and HERALD_* variable they use exists in the built binary, and the rules
// pass promtool (docs/operations.md, "Monitoring"). It has no Go code of
// its own.
package deploy

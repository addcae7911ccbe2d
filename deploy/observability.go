// Package deploy holds the deployment files (Prometheus rules, the
// Grafana dashboard, …) and the tests that keep them in step with Herald
// (docs/operations.md, "Monitoring").
package deploy

// Package topology runs Herald's production topology as real processes
// on one machine: a JetStream cluster of nats-server processes, one
// PostgreSQL, the migrations, control planes, gateways and an HAProxy
// load balancer in front of them, reached through one URL. Every process
// can be killed, stopped, started and restarted by role and index, which
// is what the reliability tests and deploy/local build on; Serials checks
// what subscribers received across those events. Without the balancer
// (Options.NoBalancer) and with one NATS node (JetStream standalone) it
// is deploy/scale's fleet, whose clients reach each gateway directly.
//
// It imports nothing of the testing package: deploy/local runs it as a
// program, and tests wrap it (testenv.Topology).
package topology

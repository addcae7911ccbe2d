// Package testenv starts and drives Herald for tests: the platform
// `herald dev` runs (Herald), Pusher WebSocket clients, signed REST
// calls, a control-plane store on a migrated database, and TLS
// certificates for a gateway. It imports the Herald packages it starts,
// so the tests of those packages (gateway, bus/*) cannot use it; the
// infrastructure under Herald (NATS, Postgres, waits, log buffers) lives
// in internal/testinfra, which every package's tests can import.
//
// A package whose tests start Herald stops the shared Postgres cluster
// and scans the test logs for secrets with
//
//	func TestMain(m *testing.M) { testinfra.Main(m) }
package testenv

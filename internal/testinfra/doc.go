// Package testinfra is the infrastructure tests run against, and nothing
// of Herald's: embedded NATS servers and JetStream clusters, PostgreSQL
// databases on clusters started from the installed server binaries,
// polling waits (WaitUntil), log buffers and the secret scan of test
// logs, and goroutines owned by a test (Background). Nothing is mocked.
//
// It imports no Herald package but the plumbing that starts servers
// (internal/natsembed, internal/pgcluster) and the log scanner
// (internal/logscan), so the tests of every package can use it, bus and
// gateway included; TestDependencies keeps it that way. What starts or
// drives Herald itself (a platform, Pusher clients, signed REST calls, a
// control-plane store, TLS for a gateway) belongs in internal/testenv,
// which builds on this package.
//
// Every package whose tests call Postgres or write logs through Logger
// should stop the shared cluster and scan the logs when its tests end:
//
//	func TestMain(m *testing.M) { testinfra.Main(m) }
package testinfra

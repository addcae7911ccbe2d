// Package heraldtest runs a real `herald dev` for the SDK's integration
// tests: it finds the repository the module lives in, builds ./cmd/herald
// once per test binary (or takes HERALD_E2E_BIN), starts it on a temporary
// data folder and a free loopback port, and stops it (and its managed
// PostgreSQL) when the test ends. It imports nothing of the server: the
// server is a binary here, as it is for the SDK's users.
//
// Start gives a test a server of its own (Restart keeps its address);
// Shared gives the tests of a package one server they share, each with
// apps of its own (NewApp). Admin calls the admin API. DialPusher is a
// minimal Pusher protocol client for the server client's tests.
//
// A package using it runs its tests through Main, which stops the shared
// servers and removes the built binary afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(heraldtest.Main(m)) }
package heraldtest

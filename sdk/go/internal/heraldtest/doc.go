// Package heraldtest runs a real `herald dev` for the SDK's integration
// tests: it finds the repository the module lives in, builds ./cmd/herald
// once per test binary, starts it on a temporary data folder and a free
// loopback port, and stops it (and its managed PostgreSQL) when the test
// ends. It imports nothing of the server: the server is a binary here, as
// it is for the SDK's users.
//
// A package using it runs its tests through Main, which removes the
// built binary afterwards:
//
//	func TestMain(m *testing.M) { os.Exit(heraldtest.Main(m)) }
package heraldtest

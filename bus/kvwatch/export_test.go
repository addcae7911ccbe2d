package kvwatch

// Internals under test; the tests live in kvwatch_test, which may import
// testenv (kvwatch itself may not: testenv imports its users).
var (
	Drain = drain
	Live  = live
)

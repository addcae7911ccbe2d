package kvwatch

// Internals under test, for the black-box tests in kvwatch_test.
var (
	Drain = drain
	Live  = live
)

package testinfra

import (
	"fmt"
	"os"
	"testing"
)

// Main runs the tests of a package, then stops and removes the shared
// Postgres cluster if a test started one, scans the structured logs the
// tests wrote (Logger, LogWriter) for secrets and tokens (Sensitive, and
// credential patterns), and exits with the tests' status: a failure to
// clean up, or a secret in a log, fails an otherwise passing run. Call it
// from TestMain. Clusters left behind by a binary that did not call Main,
// or that was killed, are swept by the next run that uses Postgres.
func Main(m *testing.M) {
	code := m.Run()
	if err := shared.close(); err != nil {
		fmt.Fprintf(os.Stderr, "testinfra: stop shared postgres: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	if report := scanProcessLogs(); report != "" {
		fmt.Fprint(os.Stderr, report)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

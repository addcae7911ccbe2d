package testinfra

import (
	"fmt"
	"strings"

	"github.com/heraldhq/herald/internal/logscan"
)

// scanProcessLogs scans this process's log files and returns a report
// for a failed run, or "" when they are clean.
func scanProcessLogs() string {
	paths, sensitive, err := closeLogs()
	if err != nil {
		return fmt.Sprintf("testinfra: test logs could not be written or closed, so they were not all scanned: %v\n", err)
	}
	leaks, _, err := logscan.Scan(paths, sensitive)
	if err != nil {
		return fmt.Sprintf("testinfra: %v\n", err)
	}
	if len(leaks) == 0 {
		removeTemporaryLogs()
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "testinfra: the structured logs of this test run hold secrets or tokens (%d findings); secrets are never logged:\n", len(leaks))
	for _, l := range leaks {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

package testenv

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// maxLogLine bounds one line of a scanned log file.
const maxLogLine = 16 << 20

// leakPatterns are shapes of credentials that no log line may carry,
// whoever made them: the scan finds tokens it was never told about.
var leakPatterns = []struct {
	name string
	re   *regexp.Regexp
}{
	{"a JWT", regexp.MustCompile(`eyJ[A-Za-z0-9_-]{2,}\.eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*`)},
	{"an auth_signature value", regexp.MustCompile(`auth_signature=[0-9A-Fa-f]{8,}`)},
	{"a Bearer credential", regexp.MustCompile(`Bearer\s+[A-Za-z0-9._~+/=-]{6,}`)},
	{"a non-empty \"secret\" field", regexp.MustCompile(`\\?"secret\\?"\s*:\s*\\?"[^"\\]`)},
	{"a secret= attribute", regexp.MustCompile(`(?:^|[\s,{])secret=[^\s"]`)},
	{"a channel auth signature", regexp.MustCompile(`\\?"auth\\?"\s*:\s*\\?"[^"\\:]+:[0-9a-f]{64}`)},
	{"an admin token", regexp.MustCompile(`hat_[A-Za-z0-9_-]{20,}`)},
}

// LogLeak is a secret or credential found in a log file. It never holds
// the secret itself, so that reporting it does not leak it again.
type LogLeak struct {
	File string
	Line int
	// What names the pattern, or says a registered secret was found.
	What string
}

func (l LogLeak) String() string { return fmt.Sprintf("%s:%d: %s", l.File, l.Line, l.What) }

// ScanLogs looks for every sensitive string and every credential pattern
// in the files, line by line.
func ScanLogs(paths, sensitive []string) ([]LogLeak, error) {
	var leaks []LogLeak
	for _, path := range paths {
		found, err := scanLogFile(path, sensitive)
		if err != nil {
			return leaks, err
		}
		leaks = append(leaks, found...)
	}
	return leaks, nil
}

func scanLogFile(path string, sensitive []string) ([]LogLeak, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scan logs: %w", err)
	}
	defer f.Close()
	var leaks []LogLeak
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLogLine)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		for i, s := range sensitive {
			if strings.Contains(line, s) {
				leaks = append(leaks, LogLeak{File: path, Line: n, What: fmt.Sprintf("registered secret #%d (%d characters)", i+1, len(s))})
			}
		}
		for _, p := range leakPatterns {
			if p.re.MatchString(line) {
				leaks = append(leaks, LogLeak{File: path, Line: n, What: p.name})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return leaks, fmt.Errorf("scan logs %s: %w", path, err)
	}
	return leaks, nil
}

// scanProcessLogs scans this process's log files and returns a report
// for a failed run, or "" when they are clean.
func scanProcessLogs() string {
	paths, sensitive, err := closeLogs()
	if err != nil {
		return fmt.Sprintf("testenv: test logs could not be written or closed, so they were not all scanned: %v\n", err)
	}
	leaks, err := ScanLogs(paths, sensitive)
	if err != nil {
		return fmt.Sprintf("testenv: %v\n", err)
	}
	if len(leaks) == 0 {
		removeTemporaryLogs()
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "testenv: the structured logs of this test run hold secrets or tokens (%d findings); secrets are never logged:\n", len(leaks))
	for _, l := range leaks {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	return b.String()
}

// Package logscan finds secrets and credentials in log files: the values a
// caller registers, and the shapes of credentials (JWTs, request
// signatures, Bearer headers, admin tokens) whoever made them. Herald never
// logs a secret; test suites prove it by scanning every log they produce.
package logscan

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

// Leak is a secret or credential found in a log file. It never holds
// the secret itself, so that reporting it does not leak it again.
type Leak struct {
	File string
	Line int
	// What names the pattern, or says a registered secret was found.
	What string
}

func (l Leak) String() string { return fmt.Sprintf("%s:%d: %s", l.File, l.Line, l.What) }

// Scan looks for every sensitive string and every credential pattern
// in the files, line by line. lines counts the lines read, so that a
// caller can tell a clean log from an empty one.
func Scan(paths, sensitive []string) (leaks []Leak, lines int, err error) {
	for _, path := range paths {
		found, n, err := scanFile(path, sensitive)
		lines += n
		leaks = append(leaks, found...)
		if err != nil {
			return leaks, lines, err
		}
	}
	return leaks, lines, nil
}

func scanFile(path string, sensitive []string) (leaks []Leak, lines int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("scan logs: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLogLine)
	for sc.Scan() {
		lines++
		n, line := lines, sc.Text()
		for i, s := range sensitive {
			if strings.Contains(line, s) {
				leaks = append(leaks, Leak{File: path, Line: n, What: fmt.Sprintf("registered secret #%d (%d characters)", i+1, len(s))})
			}
		}
		for _, p := range leakPatterns {
			if p.re.MatchString(line) {
				leaks = append(leaks, Leak{File: path, Line: n, What: p.name})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return leaks, lines, fmt.Errorf("scan logs %s: %w", path, err)
	}
	return leaks, lines, nil
}

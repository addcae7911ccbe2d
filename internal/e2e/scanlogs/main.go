// Command scanlogs checks log files for secrets and credentials with
// internal/logscan, for suites that run herald as a separate process (the
// JavaScript end-to-end suite). It exits 1 when it finds any, or when the
// logs hold no line at all (an empty log proves nothing); the report
// names file, line and pattern, never the secret.
//
//	go run ./internal/e2e/scanlogs [-secrets FILE] LOG...
//
// FILE holds one registered secret per line (blank lines are ignored).
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/heraldhq/herald/internal/logscan"
)

func main() {
	secretsFile := flag.String("secrets", "", "file with one secret per line that no log may contain")
	flag.Parse()
	if err := run(*secretsFile, flag.Args()); err != nil {
		fmt.Fprintf(os.Stderr, "scanlogs: %v\n", err)
		os.Exit(1)
	}
}

// errLeaks marks a scan that found secrets or credentials.
var errLeaks = errors.New("the logs hold secrets or tokens; secrets are never logged")

func run(secretsFile string, paths []string) error {
	if len(paths) == 0 {
		return errors.New("no log file given")
	}
	var secrets []string
	if secretsFile != "" {
		var err error
		if secrets, err = readSecrets(secretsFile); err != nil {
			return err
		}
	}
	leaks, lines, err := logscan.Scan(paths, secrets)
	if err != nil {
		return err
	}
	if lines == 0 {
		return fmt.Errorf("the logs %s are empty: nothing was scanned", strings.Join(paths, ", "))
	}
	if len(leaks) > 0 {
		for _, l := range leaks {
			fmt.Fprintf(os.Stderr, "  %s\n", l)
		}
		return fmt.Errorf("%d findings: %w", len(leaks), errLeaks)
	}
	fmt.Fprintf(os.Stderr, "scanlogs: %d log lines, %d registered secrets: clean\n", lines, len(secrets))
	return nil
}

func readSecrets(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read secrets: %w", err)
	}
	return out, nil
}

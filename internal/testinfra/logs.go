package testinfra

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// LogDirEnv names the folder where tests write the structured logs of
// every Herald they start (one file per test process and source); empty
// means a new temporary folder. Main scans the files for secrets.
const LogDirEnv = "HERALD_TEST_LOG_DIR"

// minSensitiveLen keeps trivially short strings out of the scan: they
// would match ordinary words.
const minSensitiveLen = 8

// logs is the process's log files and the secrets the scan looks for.
var logs logState

type logState struct {
	mu  sync.Mutex
	dir string
	// temporary is set when dir was made for this process: it is
	// removed after a clean scan.
	temporary bool
	files     map[string]*os.File
	sensitive map[string]struct{}
	err       error
}

// Sensitive registers a secret or token that must never appear in a log:
// Main fails the run if one does. testenv registers what it creates or
// learns (app secrets, admin tokens); tests register what they make.
func Sensitive(s string) {
	if len(s) < minSensitiveLen {
		return
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if logs.sensitive == nil {
		logs.sensitive = map[string]struct{}{}
	}
	logs.sensitive[s] = struct{}{}
}

// LogWriter returns the process's log file named name (created in the
// log folder on first use; the test binary's name is prepended). Give it
// to loggers that tests build themselves and to the stderr of herald
// binaries they run, so that Main scans what they write.
func LogWriter(name string) io.Writer {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if f, ok := logs.files[name]; ok {
		return f
	}
	if logs.err != nil {
		return io.Discard
	}
	if logs.dir == "" {
		dir := os.Getenv(LogDirEnv)
		if dir == "" {
			dir, logs.err = os.MkdirTemp("", "herald-test-logs-")
			logs.temporary = true
		} else {
			logs.err = os.MkdirAll(dir, 0o700)
		}
		if logs.err != nil {
			return io.Discard
		}
		logs.dir = dir
	}
	base := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	path := filepath.Join(logs.dir, fmt.Sprintf("%s-%d-%s.log", base, os.Getpid(), name))
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		logs.err = err
		return io.Discard
	}
	if logs.files == nil {
		logs.files = map[string]*os.File{}
	}
	logs.files[name] = f
	return f
}

// Logger returns a structured logger for tests: JSON at debug level to
// the process's log file (which Main scans for secrets), and also text to
// stderr when the HERALD_TEST_LOG environment variable is set.
func Logger(tb testing.TB) *slog.Logger {
	tb.Helper()
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	file := slog.NewJSONHandler(LogWriter("herald"), opts)
	if os.Getenv("HERALD_TEST_LOG") == "" {
		return slog.New(file)
	}
	return slog.New(slog.NewMultiHandler(file, slog.NewTextHandler(os.Stderr, opts)))
}

// removeTemporaryLogs deletes the log folder if it was made for this
// process; a folder given by LogDirEnv is kept.
func removeTemporaryLogs() {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if logs.temporary {
		_ = os.RemoveAll(logs.dir)
	}
}

// closeLogs closes the log files and returns their paths, the secrets
// registered, and the error that kept logs from being written, if any.
func closeLogs() (paths, sensitive []string, err error) {
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, f := range logs.files {
		paths = append(paths, f.Name())
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	logs.files = nil
	for s := range logs.sensitive {
		sensitive = append(sensitive, s)
	}
	if logs.err != nil {
		err = logs.err
	}
	return paths, sensitive, err
}

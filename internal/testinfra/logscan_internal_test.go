package testinfra

import (
	"os"
	"strings"
	"testing"
)

// TestLoggerWritesScannedFile: what a test's Herald logs reaches the file
// Main scans.
func TestLoggerWritesScannedFile(t *testing.T) {
	Logger(t).Debug("log scan probe", "n", 42)
	logs.mu.Lock()
	f := logs.files["herald"]
	logs.mu.Unlock()
	if f == nil {
		t.Fatal("Logger opened no log file")
	}
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"log scan probe"`) {
		t.Fatalf("the log file lacks the probe line:\n%s", b)
	}
}

package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	t.Parallel()
	const secret = "tenant-secret-5d1c"
	for _, tc := range []struct {
		name, log string
		wantErr   string
	}{
		{"clean", `{"level":"INFO","msg":"http request","path":"/apps/a/events"}` + "\n", ""},
		{"registered secret", `{"msg":"oops","v":"` + secret + `"}` + "\n", errLeaks.Error()},
		{"credential shape", `{"url":"/app/k?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln"}` + "\n", errLeaks.Error()},
		{"empty", "", "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			logPath, secrets := filepath.Join(dir, "herald.log"), filepath.Join(dir, "secrets")
			if err := os.WriteFile(logPath, []byte(tc.log), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(secrets, []byte("\n"+secret+"\n\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			err := run(secrets, []string{logPath})
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("run = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("run = %v, want an error with %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), secret):
				t.Fatalf("the error repeats the secret: %v", err)
			}
		})
	}
	if err := run("", nil); err == nil {
		t.Fatal("run with no log file succeeded")
	}
	if err := run(filepath.Join(t.TempDir(), "missing"), []string{"x"}); err == nil || errors.Is(err, errLeaks) {
		t.Fatalf("missing secrets file: %v", err)
	}
}

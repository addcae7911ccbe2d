package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runServerCmd(args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(string) string { return "" }, &stdout, &stderr)
	return cliResult{code, stdout.String(), stderr.String()}
}

// TestDevPortInUse: a port in use is refused before anything is created,
// with the flag that picks another.
func TestDevPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr)
	dataDir := filepath.Join(t.TempDir(), "data")
	r := runServerCmd("dev", "--addr", addr.String(), "--data-dir", dataDir)
	next := net.JoinHostPort("127.0.0.1", itoa(int32(addr.Port+1)))
	want := "herald dev: " + addr.String() + " is in use by another process; pick another with --addr " + next + "\n"
	if r.code != 1 || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want 1, %q", r.code, r.stderr, want)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("the data folder was created (stat: %v)", err)
	}
}

// TestDatabaseURLFailure: an unusable --database-url is one line naming
// it, without repeated prefixes or warnings after it, and in dev mode it
// suggests the managed cluster.
func TestDatabaseURLFailure(t *testing.T) {
	dbURL := "postgres://nouser:hidden@" + strings.TrimPrefix(closedURL(t), "http://") + "/x"
	shown := strings.Replace(dbURL, ":hidden@", ":xxxxx@", 1)
	for _, tc := range []struct {
		mode string
		args []string
		hint bool
	}{
		{"dev", []string{"--data-dir", t.TempDir()}, true},
		{"controlplane", []string{"--nats-url", "nats://127.0.0.1:1", "--master-key", "k"}, false},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			args := append([]string{tc.mode, "--addr", "127.0.0.1:0", "--database-url", dbURL}, tc.args...)
			r := runServerCmd(args...)
			if r.code != 1 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			prefix := "herald " + tc.mode + ": cannot connect to --database-url " + shown + ": "
			if !strings.HasPrefix(r.stderr, prefix) || strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("stderr is not one line starting %q:\n%s", prefix, r.stderr)
			}
			if n := strings.Count(r.stderr, "connection refused"); n != 1 {
				t.Errorf("the cause appears %d times:\n%s", n, r.stderr)
			}
			if strings.Contains(r.stderr, "hidden") {
				t.Errorf("the password is shown:\n%s", r.stderr)
			}
			hint := "; leave --database-url out to run a managed PostgreSQL cluster in the data folder\n"
			if got := strings.HasSuffix(r.stderr, hint); got != tc.hint {
				t.Errorf("ends with the managed-cluster hint: %v, want %v:\n%s", got, tc.hint, r.stderr)
			}
		})
	}
}

// TestUnwritableDataDir: a data folder that cannot be made suggests
// another. A path under a regular file fails for root too, which a
// read-only permission would not.
func TestUnwritableDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runServerCmd("dev", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(file, "data"))
	want := "herald dev: cannot create the data folder " + filepath.Join(file, "data") + ": "
	if r.code != 1 || !strings.HasPrefix(r.stderr, want) || !strings.HasSuffix(r.stderr, "; pick a writable folder with --data-dir\n") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestResetRefusesDatabaseURL(t *testing.T) {
	r := runServerCmd("dev", "--reset", "--database-url", "postgres://x@127.0.0.1:1/x", "--data-dir", t.TempDir())
	if r.code != 2 || !strings.Contains(r.stderr, "--reset") || !strings.Contains(r.stderr, "--database-url") {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

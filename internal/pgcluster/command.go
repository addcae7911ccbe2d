package pgcluster

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// commandWaitDelay bounds how long a finished or cancelled program may keep
// its output pipes open through a child it left behind.
const commandWaitDelay = 2 * time.Second

// logTailLines is how many lines of output or server log an error carries.
const logTailLines = 20

// logTailBytes is how much of the end of a server log is read to find its
// last lines; the log of a long-lived dev cluster can be large.
const logTailBytes = 64 << 10

// runner runs the PostgreSQL programs of one cluster.
type runner struct {
	binDir string
	as     *runAs
	cwd    string // must be reachable by the server user: initdb fails otherwise
}

// run runs program name from binDir as the server user, in its own session
// so that a terminal's Ctrl-C reaches herald only, which then shuts the
// server down in order. Cancelling ctx kills the program's process group.
// The program is killed if herald dies, so that an initdb orphaned by a
// killed herald cannot go on writing (or, failing, deleting) the data
// folder the next herald initializes; a server started by pg_ctl is not
// affected, since the kernel does not pass this on to grandchildren.
func (r runner) run(ctx context.Context, name string, args ...string) error {
	// The kernel sends the parent-death signal when the thread that started
	// the program exits, so keep that thread until the program ends.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.CommandContext(ctx, filepath.Join(r.binDir, name), args...)
	cmd.Dir = r.cwd
	cmd.Env = childEnv(os.Environ())
	cmd.SysProcAttr = sysProcAttr(r.as.credential())
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = commandWaitDelay
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if t := tail(out.String(), logTailLines); t != "" {
			return fmt.Errorf("%s %s: %w:\n%s", name, args[0], err, t)
		}
		return fmt.Errorf("%s %s: %w", name, args[0], err)
	}
	return nil
}

// childEnv is our environment without the libpq and server variables
// (PGDATA, PGPORT, PGOPTIONS...) that would redirect or reconfigure the
// programs, with a fixed locale and time zone: the C locale avoids failures
// on machines lacking the user's locale, and a set TZ spares initdb its
// slow scan of the time zone database.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || k == "TZ" || k == "LANG" || strings.HasPrefix(k, "LC_") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "LC_ALL=C", "TZ=UTC")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// tailFile returns the last n lines of the file at path, or "" if it
// cannot be read.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > logTailBytes {
		if _, err := f.Seek(-logTailBytes, io.SeekEnd); err != nil {
			return ""
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, logTailBytes))
	if err != nil {
		return ""
	}
	return tail(string(b), n)
}

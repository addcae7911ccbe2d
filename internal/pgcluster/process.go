package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pollInterval is how often the state of server processes is checked while
// waiting for them to appear or go away.
const pollInterval = 10 * time.Millisecond

// killGrace is how long processes that an immediate shutdown did not end
// get before SIGKILL, and how long SIGKILL gets to take effect.
const killGrace = 5 * time.Second

// procRoot is where Linux exposes processes.
const procRoot = "/proc"

// serverProgram is the file name of the PostgreSQL server executable; every
// server process (postmaster and backends) runs it.
const serverProgram = "postgres"

// postmasterStatus values of the eighth line of postmaster.pid.
const statusReady = "ready"

// pidFile is the part of postmaster.pid we use. Its lines are the pid, the
// data folder, the start time, the port, the socket folder, the listen
// address, the shared memory key and the status.
type pidFile struct {
	pid    int
	status string
}

// readPidFile reads the postmaster.pid at path; ok is false when there is
// none.
func readPidFile(path string) (pf pidFile, ok bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return pidFile{}, false, nil
	}
	if err != nil {
		return pidFile{}, false, fmt.Errorf("pgcluster: read %s: %w", path, err)
	}
	lines := strings.Split(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || pid <= 0 {
		// A file cut short by a crash: no live server wrote it.
		return pidFile{}, true, nil
	}
	pf.pid = pid
	const statusLine = 7
	if len(lines) > statusLine {
		pf.status = strings.TrimSpace(lines[statusLine])
	}
	return pf, true, nil
}

// procState returns the state letter of a process (R, S, Z...), or "" if
// it does not exist.
func procState(pid int) string {
	b, err := os.ReadFile(filepath.Join(procRoot, strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	// The command name in parentheses may contain spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return ""
	}
	return string(b[i+2])
}

// alive reports whether pid is a running process. A zombie is not: it has
// exited and only waits for a parent (often init) to reap it.
func alive(pid int) bool {
	s := procState(pid)
	return s != "" && s != "Z"
}

// isServerFor reports whether pid is a live PostgreSQL server process of
// the data folder realData. Servers chdir into their data folder, which
// tells them apart from an unrelated process that reused a stale pid.
func isServerFor(pid int, realData string) bool {
	if !alive(pid) {
		return false
	}
	proc := filepath.Join(procRoot, strconv.Itoa(pid))
	// A process that is exiting has already lost its exe link but may
	// still hold the folder as its cwd: count it, so that callers wait
	// until it is really gone.
	exe, err := os.Readlink(filepath.Join(proc, "exe"))
	if err == nil && filepath.Base(strings.TrimSuffix(exe, " (deleted)")) != serverProgram {
		return false
	}
	cwd, err := os.Readlink(filepath.Join(proc, "cwd"))
	return err == nil && cwd == realData
}

// serverProcesses returns the live server processes of realData.
func serverProcesses(realData string) []int {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if isServerFor(pid, realData) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// realPath resolves symbolic links, as /proc/<pid>/cwd does, so that paths
// compare equal; a path that does not exist is returned cleaned.
func realPath(p string) string {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return filepath.Clean(p)
}

// runningPostmaster returns the pid of the postmaster that owns l's data
// folder, or 0. A postmaster.pid naming a dead or foreign process is stale.
func runningPostmaster(l layout) (pid int, status string, err error) {
	pf, ok, err := readPidFile(l.pidFile())
	if err != nil || !ok {
		return 0, "", err
	}
	if pf.pid == 0 || !isServerFor(pf.pid, realPath(l.data)) {
		return 0, "", nil
	}
	return pf.pid, pf.status, nil
}

// removeStaleLocks deletes the lock files of a server that is not running.
// PostgreSQL removes a stale postmaster.pid itself only when its pid is
// free; after a reboot or in a container the pid often belongs to another
// process, and the server would refuse to start.
func removeStaleLocks(l layout) error {
	for _, p := range []string{l.pidFile(), l.socketLockFile()} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("pgcluster: remove stale %s: %w", p, err)
		}
	}
	return nil
}

// waitGone waits until no server process of l's data folder is left. If
// some remain after killGrace (or once ctx is done), it kills them and
// waits up to killGrace more.
func waitGone(ctx context.Context, l layout) error {
	data := realPath(l.data)
	deadline := time.Now().Add(killGrace)
	killed := false
	for {
		pids := serverProcesses(data)
		if len(pids) == 0 {
			return nil
		}
		now := time.Now()
		switch {
		case !killed && (now.After(deadline) || ctx.Err() != nil):
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL) // it may have exited meanwhile
			}
			killed, deadline = true, now.Add(killGrace)
		case killed && now.After(deadline):
			return fmt.Errorf("pgcluster: server processes %v of %s survive SIGKILL", pids, l.data)
		}
		time.Sleep(pollInterval)
	}
}

// StopDir stops the server, if any, that runs the cluster kept in dir, with
// an immediate shutdown (no checkpoint; the next start recovers from WAL),
// and returns once none of its processes is left, killing those that do not
// exit. It needs no binaries and no Cluster: it is for cleaning up after an
// owner that died, before removing the folder.
func StopDir(ctx context.Context, dir string) error {
	if err := checkSystem(); err != nil {
		return err
	}
	l, err := newLayout(dir)
	if err != nil && !errors.Is(err, ErrSocketPathTooLong) {
		return err
	}
	pid, _, err := runningPostmaster(l)
	if err != nil {
		return err
	}
	if pid != 0 {
		// SIGQUIT is PostgreSQL's immediate shutdown, what pg_ctl -m immediate sends.
		if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("pgcluster: signal server %d: %w", pid, err)
		}
	}
	return waitGone(ctx, l)
}

package pgcluster_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// testTimeout bounds each cluster operation of a test.
const testTimeout = time.Minute

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	tb.Cleanup(cancel)
	return ctx
}

// start starts a cluster and stops it when tb ends.
func start(tb testing.TB, cfg pgcluster.Config) *pgcluster.Cluster {
	tb.Helper()
	c, err := pgcluster.Start(testContext(tb), cfg)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			tb.Errorf("Stop: %v", err)
		}
	})
	return c
}

func connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(testContext(tb), url)
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	tb.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func queryString(tb testing.TB, conn *pgx.Conn, sql string) string {
	tb.Helper()
	var s string
	if err := conn.QueryRow(testContext(tb), sql).Scan(&s); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	return s
}

// serverProcesses lists the live postgres processes working in dataDir
// (every server process runs with its data folder as working directory).
func serverProcesses(tb testing.TB, dataDir string) []int {
	tb.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		tb.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil || cwd != dataDir {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil &&
			!strings.Contains(string(stat[strings.LastIndexByte(string(stat), ')'):]), ") Z ") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func procStatusField(tb testing.TB, pid int, field string) string {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.Fields(v)[0]
		}
	}
	tb.Fatalf("no %s in /proc/%d/status", field, pid)
	return ""
}

// sessionID returns the session of pid (field 6 of /proc/<pid>/stat).
func sessionID(tb testing.TB, pid int) int {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	const sessionField = 3 // counted from field 3, the state
	sid, err := strconv.Atoi(fields[sessionField])
	if err != nil {
		tb.Fatal(err)
	}
	return sid
}

func TestStartConnectStop(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	c := start(t, pgcluster.Config{Dir: dir, Database: "app", Fast: true, InitCache: testinfra.InitCache()})

	if c.Reused() {
		t.Error("Reused() = true for a new cluster")
	}
	conn := connect(t, c.URL(""))
	if got := queryString(t, conn, "SELECT current_database()"); got != "app" {
		t.Errorf("current_database() = %q, want app", got)
	}
	if got := queryString(t, conn, "SELECT current_user"); got != pgcluster.Superuser {
		t.Errorf("current_user = %q, want %q", got, pgcluster.Superuser)
	}
	if got := queryString(t, conn, "SHOW listen_addresses"); got != "" {
		t.Errorf("listen_addresses = %q, want none", got)
	}
	if other := connect(t, c.URL("postgres")); queryString(t, other, "SELECT current_database()") != "postgres" {
		t.Error("URL(postgres) does not lead to the postgres database")
	}

	fi, err := os.Stat(c.SocketDir())
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o700 {
		t.Errorf("socket folder mode = %o, want 700", perm)
	}
	// The server runs in its own session, away from the terminal's Ctrl-C.
	if sid := sessionID(t, c.PID()); sid != c.PID() {
		t.Errorf("server session = %d, want its own (%d)", sid, c.PID())
	}
	if os.Geteuid() == 0 {
		if uid := procStatusField(t, c.PID(), "Uid"); uid == "0" {
			t.Error("server runs as root")
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid == 0 {
			t.Error("socket folder belongs to root, not to the server user")
		}
	}

	data := c.DataDir()
	if len(serverProcesses(t, data)) == 0 {
		t.Fatal("no server process found while running")
	}
	// A connection still open must not keep the server alive.
	if err := c.Stop(testContext(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if pids := serverProcesses(t, data); len(pids) > 0 {
		t.Errorf("server processes %v left after Stop", pids)
	}
	if err := c.Stop(testContext(t)); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fast bool
		want string
	}{
		{fast: true, want: "off"},
		// Without the init cache, to run initdb with its final sync.
		{fast: false, want: "on"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("fast=%v", tt.fast), func(t *testing.T) {
			t.Parallel()
			cfg := pgcluster.Config{Dir: testinfra.ClusterDir(t), Fast: tt.fast}
			if tt.fast {
				cfg.InitCache = testinfra.InitCache()
			}
			c := start(t, cfg)
			conn := connect(t, c.URL(""))
			for _, name := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
				if got := queryString(t, conn, "SHOW "+name); got != tt.want {
					t.Errorf("%s = %q, want %q", name, got, tt.want)
				}
			}
		})
	}
}

// TestStartReusesRunningServer simulates a herald killed with SIGKILL: its
// server keeps running, and the next Start adopts it.
func TestStartReusesRunningServer(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	first := start(t, pgcluster.Config{Dir: dir, Fast: true, InitCache: testinfra.InitCache()})

	begin := time.Now()
	second := start(t, pgcluster.Config{Dir: dir, Fast: true})
	t.Logf("adopting a running server took %v", time.Since(begin))
	if !second.Reused() || second.PID() != first.PID() {
		t.Fatalf("second Start: Reused=%v PID=%d, want the running server %d", second.Reused(), second.PID(), first.PID())
	}
	connect(t, second.URL(""))
	if err := second.Stop(testContext(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if pids := serverProcesses(t, second.DataDir()); len(pids) > 0 {
		t.Errorf("server processes %v left after Stop", pids)
	}
	if err := first.Stop(testContext(t)); err != nil {
		t.Errorf("Stop of the already stopped server: %v", err)
	}
}

func TestDataSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	cfg := pgcluster.Config{Dir: dir, Fast: true} // no init cache: measure a real cold start
	begin := time.Now()
	c := start(t, cfg)
	t.Logf("cold start (initdb and start) took %v", time.Since(begin))
	conn := connect(t, c.URL(""))
	ctx := testContext(t)
	if _, err := conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')"); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close(ctx)
	begin = time.Now()
	if err := c.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %v", time.Since(begin))

	begin = time.Now()
	again := start(t, cfg)
	t.Logf("warm start took %v", time.Since(begin))
	if again.Reused() {
		t.Error("Reused() = true after Stop")
	}
	if got := queryString(t, connect(t, again.URL("")), "SELECT v FROM kept"); got != "still here" {
		t.Errorf("kept row = %q", got)
	}
}

// TestStartAfterStaleServer covers the lock files a dead server leaves:
// Start must clean them up even when their pid now belongs to another
// process, which PostgreSQL alone would take for a running server.
func TestStartAfterStaleServer(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	cfg := pgcluster.Config{Dir: dir, Fast: true, InitCache: testinfra.InitCache()}
	c := start(t, cfg)
	conn := connect(t, c.URL(""))
	// Fast mode commits asynchronously; this commit must survive the SIGKILL below.
	if _, err := conn.Exec(testContext(t), "SET synchronous_commit = on; CREATE TABLE kept (v int)"); err != nil {
		t.Fatal(err)
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		pid  int // 0 means SIGKILL the running server and keep its files
	}{
		{name: "killed server", pid: 0},
		{name: "dead pid", pid: dead.Process.Pid},
		{name: "pid of another live process", pid: os.Getpid()},
		{name: "pid 1", pid: 1},
	}
	pidFile := filepath.Join(c.DataDir(), "postmaster.pid")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pid == 0 {
				if err := syscall.Kill(c.PID(), syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				waitNoServer(t, c.DataDir())
			} else {
				body := fmt.Sprintf("%d\n%s\n1700000000\n%d\n%s\n\n  5432001         0\nready   \n",
					tt.pid, c.DataDir(), pgcluster.Port, c.SocketDir())
				if err := os.WriteFile(pidFile, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			c = start(t, cfg)
			if c.Reused() {
				t.Fatal("Reused() = true for a stale pid file")
			}
			conn := connect(t, c.URL(""))
			queryString(t, conn, "SELECT count(*)::text FROM kept")
			if err := c.Stop(testContext(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// waitNoServer polls until no server process of dataDir is left.
func waitNoServer(tb testing.TB, dataDir string) {
	tb.Helper()
	testinfra.WaitUntil(tb, "no server process of "+dataDir, func() bool { return len(serverProcesses(tb, dataDir)) == 0 })
}

func TestStartFailureShowsServerLog(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	cfg := pgcluster.Config{Dir: dir, Fast: true, InitCache: testinfra.InitCache()}
	c := start(t, cfg)
	if err := c.Stop(testContext(t)); err != nil {
		t.Fatal(err)
	}
	// postgresql.auto.conf is read after our settings; a bad value stops the server from starting.
	auto := filepath.Join(c.DataDir(), "postgresql.auto.conf")
	if err := os.WriteFile(auto, []byte("shared_buffers = 'lots'\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := pgcluster.Start(testContext(t), cfg)
	if err == nil {
		t.Fatal("Start succeeded with a broken configuration")
	}
	if !strings.Contains(err.Error(), "shared_buffers") {
		t.Errorf("error does not show the server log: %v", err)
	}
	if pids := serverProcesses(t, c.DataDir()); len(pids) > 0 {
		t.Errorf("server processes %v left after a failed Start", pids)
	}
}

func TestStartRejectsBadFolders(t *testing.T) {
	t.Parallel()
	base := testinfra.ClusterDir(t)
	tests := []struct {
		name    string
		dir     string
		want    error
		message string
	}{
		{name: "socket path too long", dir: filepath.Join(base, strings.Repeat("d", 80)), want: pgcluster.ErrSocketPathTooLong},
		{name: "shell metacharacter", dir: filepath.Join(base, "a$b"), message: "shell"},
		{name: "no folder", dir: "", message: "Dir is required"},
	}
	if os.Geteuid() == 0 {
		// base is root's and private: the server user cannot reach inside.
		tests = append(tests, struct {
			name    string
			dir     string
			want    error
			message string
		}{name: "unreachable for the server user", dir: filepath.Join(base, "c"), message: "cannot be traversed"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pgcluster.Start(testContext(t), pgcluster.Config{Dir: tt.dir, Fast: true})
			if err == nil {
				t.Fatal("Start succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %v, want it to mention %q", err, tt.message)
			}
		})
	}
}

func TestStopDir(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	c, err := pgcluster.Start(testContext(t), pgcluster.Config{Dir: dir, Fast: true, InitCache: testinfra.InitCache()})
	if err != nil {
		t.Fatal(err)
	}
	connect(t, c.URL(""))
	if err := pgcluster.StopDir(testContext(t), dir); err != nil {
		t.Fatalf("StopDir: %v", err)
	}
	if pids := serverProcesses(t, c.DataDir()); len(pids) > 0 {
		t.Errorf("server processes %v left after StopDir", pids)
	}
	if err := pgcluster.StopDir(testContext(t), dir); err != nil {
		t.Errorf("StopDir with nothing running: %v", err)
	}
}

func TestInitCache(t *testing.T) {
	t.Parallel()
	base := testinfra.ClusterDir(t)
	// The server user must reach the cache (base is root's and private).
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(base, "cache")
	var clusters []*pgcluster.Cluster
	for i, name := range []string{"a", "b"} {
		begin := time.Now()
		c := start(t, pgcluster.Config{Dir: filepath.Join(base, name), Fast: true, InitCache: cache})
		t.Logf("start %d with init cache took %v", i+1, time.Since(begin))
		clusters = append(clusters, c)
	}
	entries, err := filepath.Glob(filepath.Join(cache, "*", "initialized"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("cache entries %v, %v; want one", entries, err)
	}
	// The copies are independent clusters.
	ctx := testContext(t)
	if _, err := connect(t, clusters[0].URL("")).Exec(ctx, "CREATE TABLE only_in_a (v int)"); err != nil {
		t.Fatal(err)
	}
	var n int
	err = connect(t, clusters[1].URL("")).QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'").Scan(&n)
	if err != nil || n != 0 {
		t.Fatalf("table of cluster a visible in cluster b: n=%d, %v", n, err)
	}
}

func TestInitCacheUnusable(t *testing.T) {
	t.Parallel()
	dir := testinfra.ClusterDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A file where the cache folder should be.
	cache := filepath.Join(dir, "cache")
	if err := os.WriteFile(cache, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	c := start(t, pgcluster.Config{Dir: filepath.Join(dir, "c"), Fast: true, InitCache: cache, Logger: logger})
	connect(t, c.URL(""))
	if !strings.Contains(logs.String(), "init cache unusable") {
		t.Errorf("no warning about the unusable cache in the log:\n%s", logs.String())
	}
}

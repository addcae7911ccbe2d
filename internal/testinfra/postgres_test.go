package testinfra_test

import (
	"bufio"
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

const testTimeout = time.Minute

func connect(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("connect %s: %v", dsn, err)
	}
	return conn
}

func TestPostgres(t *testing.T) {
	names := make(chan string, 3)
	t.Run("group", func(t *testing.T) {
		for _, name := range []string{"a", "b", "a very long test name " + strings.Repeat("x", 80)} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				// Left open on purpose: dropping the database must not wait for it.
				conn := connect(t, testinfra.Postgres(t))
				ctx := context.Background()
				var db string
				var tables int
				err := conn.QueryRow(ctx, `SELECT current_database(),
					(SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))`).Scan(&db, &tables)
				if err != nil {
					t.Fatal(err)
				}
				if tables != 0 {
					t.Errorf("new database %s has %d tables, want none", db, tables)
				}
				// The same table in every test: it would clash in a shared database.
				if _, err := conn.Exec(ctx, "CREATE TABLE mine (v int)"); err != nil {
					t.Fatalf("database %s: %v", db, err)
				}
				names <- db
			})
		}
	})
	close(names)
	seen := map[string]bool{}
	for n := range names {
		if seen[n] {
			t.Errorf("database %s given to two tests", n)
		}
		seen[n] = true
	}
	if len(seen) != 3 {
		t.Fatalf("got databases %v, want 3", seen)
	}

	// The subtests have ended: their databases must be gone.
	conn := connect(t, testinfra.Postgres(t))
	defer conn.Close(context.Background())
	for n := range seen {
		var exists bool
		err := conn.QueryRow(context.Background(), "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", n).Scan(&exists)
		if err != nil {
			t.Fatal(err)
		}
		if exists {
			t.Errorf("database %s still exists after its test ended", n)
		}
	}
}

func TestNewPostgresCluster(t *testing.T) {
	var dir string
	var pid int
	t.Run("private", func(t *testing.T) {
		c := testinfra.NewPostgresCluster(t)
		dir = c.Dir()
		ctx := context.Background()
		conn := connect(t, c.URL(""))
		if _, err := conn.Exec(ctx, "CREATE TABLE kept (v int)"); err != nil {
			t.Fatal(err)
		}
		_ = conn.Close(ctx)

		// Restart it as a recovery test would, and leave it running.
		if err := c.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		again, err := pgcluster.Start(ctx, pgcluster.Config{Dir: c.Dir(), Fast: true})
		if err != nil {
			t.Fatal(err)
		}
		if again.URL("") != c.URL("") {
			t.Errorf("URL changed across a restart: %s, then %s", c.URL(""), again.URL(""))
		}
		pid = again.PID()
		conn = connect(t, again.URL(""))
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "SELECT * FROM kept"); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster folder %s left after the test: %v", dir, err)
	}
	if running(pid) {
		t.Errorf("restarted server %d left running after the test", pid)
	}
}

// running reports whether pid is a live process (not a zombie).
func running(pid int) bool {
	st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	return err == nil && !strings.Contains(string(st), ") Z ")
}

// childEnv selects the role of this test binary when TestSweep runs it.
const childEnv = "HERALD_TESTINFRA_SWEEP_CHILD"

// TestSweepChild does nothing unless TestSweep runs it in a child process.
// As "leak" it starts the shared cluster, prints its URL and exits as a
// killed test binary would, without cleaning up; as "sweep" it uses
// Postgres, which sweeps what dead binaries left.
func TestSweepChild(t *testing.T) {
	switch os.Getenv(childEnv) {
	case "leak":
		os.Stdout.WriteString("URL " + testinfra.Postgres(t) + "\n")
		os.Exit(0)
	case "sweep":
		testinfra.Postgres(t)
	}
}

func runChild(t *testing.T, role string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestSweepChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", role, err, out)
	}
	return string(out)
}

// postmasterPID reads the server pid of the cluster in dir, 0 if none.
func postmasterPID(t *testing.T, dir string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	s.Scan()
	pid, _ := strconv.Atoi(s.Text())
	return pid
}

func TestSweep(t *testing.T) {
	testinfra.Postgres(t) // this binary's own sweep is done before the leak below

	out := runChild(t, "leak")
	_, dsn, ok := strings.Cut(out, "URL ")
	if !ok {
		t.Fatalf("leaking child printed no URL:\n%s", out)
	}
	u, err := url.Parse(strings.TrimSpace(strings.SplitN(dsn, "\n", 2)[0]))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(u.Query().Get("host"))
	pid := postmasterPID(t, dir)
	if pid == 0 || !running(pid) {
		t.Fatalf("the leaking child left no running server in %s", dir)
	}

	runChild(t, "sweep")
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("leaked cluster folder %s survived the sweep: %v", dir, err)
	}
	if running(pid) {
		t.Errorf("leaked server %d survived the sweep", pid)
	}
}

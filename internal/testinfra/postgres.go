package testinfra

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/internal/pgcluster"
)

// ClusterDirPrefix names the folders of test clusters: <root>/
// ClusterDirPrefix<pid>-<random>, where root is RAMRoot or
// pgcluster.SharedTempRoot. The pid is the test binary that owns the
// folder; the sweep removes folders whose owner is gone.
const ClusterDirPrefix = "herald-test-pg-"

// RAMRoot is where test clusters go when it is a tmpfs with room to spare:
// in memory, initdb, database creation and every write are several times
// faster than on a disk, and test data need not survive a reboot.
const RAMRoot = "/dev/shm"

// MinRAMRootFree is the free space RAMRoot needs to be used; containers
// often get a 64 MiB /dev/shm, too small for a few clusters.
const MinRAMRootFree = 1 << 30

// tmpfsMagic is the statfs type of a tmpfs.
const tmpfsMagic = 0x01021994

// clusterRoots are the folders that may hold test clusters, in order of
// preference.
var clusterRoots = [...]string{RAMRoot, pgcluster.SharedTempRoot}

// clusterRoot returns the folder new test clusters go to.
func clusterRoot() string {
	var st syscall.Statfs_t
	const writable = 2 // W_OK
	if syscall.Statfs(RAMRoot, &st) == nil && st.Type == tmpfsMagic &&
		uint64(st.Bavail)*uint64(st.Bsize) >= MinRAMRootFree && syscall.Access(RAMRoot, writable) == nil {
		return RAMRoot
	}
	return pgcluster.SharedTempRoot
}

// InitCachePrefix names the folder, beside the test clusters and suffixed
// with the user id, where they keep the result of initdb (see
// pgcluster.Config.InitCache). The sweep leaves it alone.
const InitCachePrefix = "herald-test-initdb-"

// InitCache returns the init cache folder of test clusters for the current
// user.
func InitCache() string {
	return filepath.Join(clusterRoot(), InitCachePrefix+strconv.Itoa(os.Geteuid()))
}

// ownerFileName holds "<pid> <process start time>" of the owning test
// binary; the start time tells a live owner from a reused pid.
const ownerFileName = "owner"

// PostgresTimeout bounds starting a test cluster and creating or dropping a
// test database.
const PostgresTimeout = 2 * time.Minute

// maxIdentifier is PostgreSQL's limit on names (NAMEDATALEN - 1 bytes).
const maxIdentifier = 63

// shared is the one Postgres cluster of this test binary. Package state is
// the point here: every test of the binary shares it, and Main stops it.
var shared sharedPostgres

type sharedPostgres struct {
	sweep sync.Once

	once    sync.Once
	cluster *pgcluster.Cluster
	admin   *pgxpool.Pool // connected to the "postgres" database
	err     error
}

// Postgres returns the URL of a fresh, empty database (no migrations: the
// caller migrates) on the test binary's shared cluster, dropped when tb
// ends even if connections to it are still open. Each call gets its own
// database, so parallel tests do not see each other. The shared cluster
// starts on first use and is stopped by Main; a package that calls
// Postgres should therefore have
//
//	func TestMain(m *testing.M) { testinfra.Main(m) }
//
// Without it the server outlives the test binary until a later run's sweep
// stops it.
func Postgres(tb testing.TB) string {
	tb.Helper()
	cluster, admin, err := shared.get(tb)
	if err != nil {
		tb.Fatalf("testinfra: postgres: %v", err)
	}
	name, err := databaseName(tb.Name())
	if err != nil {
		tb.Fatalf("testinfra: postgres: %v", err)
	}
	ident := pgx.Identifier{name}.Sanitize()
	ctx, cancel := context.WithTimeout(context.Background(), PostgresTimeout)
	defer cancel()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		tb.Fatalf("testinfra: create database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), PostgresTimeout)
		defer cancel()
		// FORCE disconnects whatever the test left open.
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
			tb.Errorf("testinfra: drop database %s: %v", name, err)
		}
	})
	return cluster.URL(name)
}

// NewPostgresCluster starts a private cluster for tb alone, for tests that
// stop and restart Postgres to prove recovery. Its database is
// pgcluster.DefaultDatabase (see Cluster.URL). To bring it back after
// Stop, call pgcluster.Start with Config{Dir: c.Dir(), Fast: true}: the URL
// stays the same. Whatever server runs in the folder when tb ends is
// stopped, and the folder removed.
func NewPostgresCluster(tb testing.TB) *pgcluster.Cluster {
	tb.Helper()
	dir := ClusterDir(tb)
	ctx, cancel := context.WithTimeout(context.Background(), PostgresTimeout)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Fast: true, InitCache: InitCache()})
	if err != nil {
		tb.Fatalf("testinfra: start postgres cluster: %v", err)
	}
	tb.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			tb.Errorf("testinfra: stop postgres cluster: %v", err)
		}
	})
	return c
}

// ClusterDir returns a new, empty folder for a Postgres cluster, owned by
// this test binary: when tb ends, any server still running in it is
// stopped and the folder removed, and if the binary dies first a later
// run's sweep does the same. It is for tests of pgcluster itself and for
// harnesses that run the server themselves (testenv.Topology); other
// tests want Postgres or NewPostgresCluster.
func ClusterDir(tb testing.TB) string {
	tb.Helper()
	dir, err := newClusterDir(tb)
	if err != nil {
		tb.Fatalf("testinfra: %v", err)
	}
	tb.Cleanup(func() {
		if err := removeCluster(dir); err != nil {
			tb.Errorf("testinfra: %v", err)
		}
	})
	return dir
}

// get starts the shared cluster on first use.
func (s *sharedPostgres) get(tb testing.TB) (*pgcluster.Cluster, *pgxpool.Pool, error) {
	s.once.Do(func() {
		s.cluster, s.admin, s.err = s.start(tb)
	})
	return s.cluster, s.admin, s.err
}

func (s *sharedPostgres) start(tb testing.TB) (*pgcluster.Cluster, *pgxpool.Pool, error) {
	dir, err := newClusterDir(tb)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), PostgresTimeout)
	defer cancel()
	// The "postgres" database always exists, so Start creates none.
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: dir, Database: "postgres", Fast: true, InitCache: InitCache()})
	if err != nil {
		return nil, nil, errors.Join(err, removeCluster(dir))
	}
	admin, err := pgxpool.New(ctx, c.URL("postgres"))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("connect: %w", err), c.Stop(ctx), removeCluster(dir))
	}
	return c, admin, nil
}

// close stops the shared cluster, if it was started, and removes it.
func (s *sharedPostgres) close() error {
	if s.cluster == nil {
		return nil
	}
	s.admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), PostgresTimeout)
	defer cancel()
	return errors.Join(s.cluster.Stop(ctx), removeCluster(s.cluster.Dir()))
}

// newClusterDir creates a cluster folder marked with this process as its
// owner, after sweeping the folders of dead owners (once per binary).
func newClusterDir(tb testing.TB) (string, error) {
	shared.sweep.Do(func() { sweepClusters(tb) })
	suffix, err := randomHex()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(clusterRoot(), ClusterDirPrefix+strconv.Itoa(os.Getpid())+"-"+suffix)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("create cluster folder: %w", err)
	}
	owner, err := processIdentity(os.Getpid())
	if err != nil {
		return "", errors.Join(err, os.RemoveAll(dir))
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFileName), []byte(owner), 0o600); err != nil {
		return "", errors.Join(fmt.Errorf("mark cluster folder: %w", err), os.RemoveAll(dir))
	}
	return dir, nil
}

// removeCluster stops any server running in dir and deletes dir.
func removeCluster(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), PostgresTimeout)
	defer cancel()
	if err := pgcluster.StopDir(ctx, dir); err != nil {
		return fmt.Errorf("stop cluster in %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove cluster folder: %w", err)
	}
	return nil
}

// sweepClusters removes the test clusters of test binaries that died
// without cleaning up (killed, timed out, or without testinfra.Main).
func sweepClusters(tb testing.TB) {
	var dirs []string
	for _, root := range clusterRoots {
		found, _ := filepath.Glob(filepath.Join(root, ClusterDirPrefix+"*"))
		dirs = append(dirs, found...)
	}
	for _, dir := range dirs {
		if ownerAlive(dir) {
			continue
		}
		if err := removeCluster(dir); err != nil {
			tb.Logf("testinfra: sweep %s: %v", dir, err)
		}
	}
}

// ownerAlive reports whether the test binary that created dir still runs.
// Without an owner file (a folder being created right now) the pid in the
// folder name decides.
func ownerAlive(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFileName))
	if err == nil {
		pid, _, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
		n, err := strconv.Atoi(pid)
		if err != nil {
			return false
		}
		id, err := processIdentity(n)
		return err == nil && id == string(b)
	}
	rest := strings.TrimPrefix(filepath.Base(dir), ClusterDirPrefix)
	pid, _, _ := strings.Cut(rest, "-")
	n, err := strconv.Atoi(pid)
	if err != nil {
		return false
	}
	_, err = processIdentity(n)
	return err == nil
}

// processIdentity returns "<pid> <start time>\n" for a live process; the
// start time (field 22 of /proc/<pid>/stat) survives pid reuse.
func processIdentity(pid int) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", fmt.Errorf("process %d: %w", pid, err)
	}
	// Fields after the parenthesized command name start at field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	fields := strings.Fields(string(b[i+1:]))
	const stateField, startField = 0, 19 // fields 3 and 22, counted from 3
	if i < 0 || len(fields) <= startField {
		return "", fmt.Errorf("process %d: unexpected stat %q", pid, b)
	}
	if fields[stateField] == "Z" {
		return "", fmt.Errorf("process %d has exited", pid)
	}
	return strconv.Itoa(pid) + " " + fields[startField] + "\n", nil
}

// databaseName derives a unique, valid database name from a test name.
func databaseName(testName string) (string, error) {
	suffix, err := randomHex()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("t_")
	for _, r := range strings.ToLower(testName) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	name = name[:min(len(name), maxIdentifier-len(suffix)-1)]
	return name + "_" + suffix, nil
}

// randomHex returns 8 random hex digits.
func randomHex() (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random name: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

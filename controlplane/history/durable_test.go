package history_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

// DurableEnv, set to any value, makes the writer benchmarks run against a
// durable PostgreSQL cluster of their own (fsync, synchronous_commit and
// full_page_writes on, on disk under pgcluster.SharedTempRoot) rather than
// the shared test cluster, which runs with durability off in memory: the
// figures Herald publishes are the durable ones.
//
//	HERALD_BENCH_DURABLE_PG=1 go test -run '^$' -bench Writer ./controlplane/history/
const DurableEnv = "HERALD_BENCH_DURABLE_PG"

// durableDirPrefix names the benchmark's cluster folders. The benchmark
// removes its own; one it could not (it was killed) is not swept like
// test clusters: stop it with pg_ctl stop -D <folder>/cluster/data.
const durableDirPrefix = "herald-bench-durable-pg-"

// traversablePerm lets the server user reach the cluster folder.
const traversablePerm = 0o755

// benchDB is a migrated database for a benchmark: on the shared test
// cluster, or on a durable one when DurableEnv is set.
func benchDB(b *testing.B) db {
	b.Helper()
	if os.Getenv(DurableEnv) == "" {
		return newDB(b, "")
	}
	dir, err := os.MkdirTemp(pgcluster.SharedTempRoot, durableDirPrefix)
	if err != nil {
		b.Fatal(err)
	}
	// Runs last: after the cluster's Stop below.
	b.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			b.Errorf("remove durable cluster: %v", err)
		}
	})
	// The server may run as another user (when the benchmark runs as
	// root): it must reach the cluster folder inside.
	if err := os.Chmod(dir, traversablePerm); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testinfra.PostgresTimeout)
	defer cancel()
	c, err := pgcluster.Start(ctx, pgcluster.Config{Dir: filepath.Join(dir, "cluster")})
	if err != nil {
		b.Fatalf("start durable cluster: %v", err)
	}
	b.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			b.Errorf("stop durable cluster: %v", err)
		}
	})
	d := newDB(b, c.URL(pgcluster.DefaultDatabase))
	for _, setting := range []string{"fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		if err := d.pool.QueryRow(context.Background(), "select current_setting($1)", setting).Scan(&v); err != nil || v != "on" {
			b.Fatalf("durable cluster: %s = %q (%v), want on", setting, v, err)
		}
	}
	return d
}

package postgres_test

import (
	"context"
	"errors"
	"io/fs"
	"sync"
	"testing"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/migrations"
)

func TestLatestVersionCountsEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no migrations embedded")
	}
	if got := postgres.LatestVersion(); got != int32(len(files)) {
		t.Errorf("LatestVersion() = %d, want %d", got, len(files))
	}
}

func wantStatus(tb testing.TB, url string, current int32) {
	tb.Helper()
	st, err := postgres.MigrationStatus(context.Background(), url)
	if err != nil {
		tb.Fatalf("migration status: %v", err)
	}
	want := postgres.Status{Current: current, Latest: postgres.LatestVersion()}
	if st != want {
		tb.Fatalf("status = %+v, want %+v", st, want)
	}
	if st.Pending() != (current < want.Latest) {
		tb.Fatalf("Pending() = %v at %+v", st.Pending(), st)
	}
}

// tableExists reports whether a table is visible in the database at url.
func tableExists(tb testing.TB, url, table string) bool {
	tb.Helper()
	var ok bool
	err := newPool(tb, url).QueryRow(context.Background(), "select to_regclass($1) is not null", table).Scan(&ok)
	if err != nil {
		tb.Fatalf("to_regclass(%s): %v", table, err)
	}
	return ok
}

func TestMigrateUpDownStatus(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testinfra.Postgres(t)
	latest := postgres.LatestVersion()

	wantStatus(t, url, 0)
	if tableExists(t, url, postgres.VersionTable) {
		t.Fatal("MigrationStatus created the version table")
	}

	if err := postgres.MigrateUp(ctx, url); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	wantStatus(t, url, latest)
	for _, table := range []string{"accounts", "apps", "app_keys", "admin_tokens", "audit_log"} {
		if !tableExists(t, url, table) {
			t.Errorf("table %s missing after migrate up", table)
		}
	}
	if err := postgres.MigrateUp(ctx, url); err != nil {
		t.Fatalf("second migrate up: %v", err)
	}
	wantStatus(t, url, latest)

	for v := latest - 1; v >= 0; v-- {
		if err := postgres.MigrateDown(ctx, url); err != nil {
			t.Fatalf("migrate down to %d: %v", v, err)
		}
		wantStatus(t, url, v)
	}
	for _, table := range []string{"accounts", "apps", "app_keys", "admin_tokens", "audit_log"} {
		if tableExists(t, url, table) {
			t.Errorf("table %s still there at version 0", table)
		}
	}
	if err := postgres.MigrateDown(ctx, url); err != nil {
		t.Fatalf("migrate down at version 0: %v", err)
	}
	wantStatus(t, url, 0)

	// Down then up again yields a working schema.
	if err := postgres.MigrateUp(ctx, url); err != nil {
		t.Fatalf("migrate up again: %v", err)
	}
	wantStatus(t, url, latest)
	f := newFixtureAt(t, url)
	acc := f.account(t, "again")
	f.key(t, f.app(t, acc.ID, "again").ID, "", "")
	if err := f.store.Ping(ctx); err != nil {
		t.Fatalf("ping after up, down, up: %v", err)
	}
}

func TestMigrateConcurrentProcessesDoNotRace(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testinfra.Postgres(t)
	latest := postgres.LatestVersion()
	if latest < 2 {
		t.Fatalf("LatestVersion() = %d; this test needs at least two migrations", latest)
	}

	run := func(n int, fn func(context.Context, string) error) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { errs[i] = fn(ctx, url) })
		}
		wg.Wait()
		return errs
	}

	if err := errors.Join(run(4, postgres.MigrateUp)...); err != nil {
		t.Fatalf("concurrent migrate up: %v", err)
	}
	wantStatus(t, url, latest)

	// Each "down" reverts exactly one step even when they run at once.
	if err := errors.Join(run(2, postgres.MigrateDown)...); err != nil {
		t.Fatalf("concurrent migrate down: %v", err)
	}
	wantStatus(t, url, latest-2)
}

func TestMigrateBadURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const url = "postgres://herald@127.0.0.1:1/none?connect_timeout=2"
	if err := postgres.MigrateUp(ctx, url); err == nil {
		t.Error("migrate up: no error")
	}
	if err := postgres.MigrateDown(ctx, url); err == nil {
		t.Error("migrate down: no error")
	}
	if _, err := postgres.MigrationStatus(ctx, url); err == nil {
		t.Error("migration status: no error")
	}
}

func TestPingChecksSchemaVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := testinfra.Postgres(t)
	f := newFixtureAt(t, url)

	if err := f.store.Ping(ctx); !errors.Is(err, postgres.ErrMigrationsPending) {
		t.Fatalf("ping on an empty database = %v, want ErrMigrationsPending", err)
	}
	if err := postgres.MigrateUp(ctx, url); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	if err := f.store.Ping(ctx); err != nil {
		t.Fatalf("ping after migrate up: %v", err)
	}
	if err := postgres.MigrateDown(ctx, url); err != nil {
		t.Fatalf("migrate down: %v", err)
	}
	if err := f.store.Ping(ctx); !errors.Is(err, postgres.ErrMigrationsPending) {
		t.Fatalf("ping one step down = %v, want ErrMigrationsPending", err)
	}
	if err := postgres.MigrateUp(ctx, url); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
	// A schema newer than the binary is an error too, but not "pending".
	if _, err := f.pool.Exec(ctx, "update "+postgres.VersionTable+" set version = version + 1"); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Ping(ctx); err == nil || errors.Is(err, postgres.ErrMigrationsPending) {
		t.Fatalf("ping on a newer schema = %v, want a non-pending error", err)
	}
}

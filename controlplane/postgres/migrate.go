package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"

	"github.com/heraldhq/herald/migrations"
)

// VersionTable is the table where tern records the applied schema version.
const VersionTable = "herald_schema_version"

// migrateLockKey is the Postgres advisory lock that serializes every
// migration command of every Herald process on one database. tern locks
// around each MigrateTo on its own, but "down one step" reads the current
// version first, and two processes doing that at once must not both revert
// the same step.
const migrateLockKey int64 = 0x68657261_6c64_0001 // "herald" + 1

// ErrMigrationsPending is returned by Ping while the database schema is not
// at LatestVersion.
var ErrMigrationsPending = errors.New("database migrations are pending")

// Status is where a database's schema stands.
type Status struct {
	// Current is the applied version; 0 for an empty database.
	Current int32
	// Latest is the version this binary's migrations reach.
	Latest int32
}

// Pending reports whether migrations remain to be applied.
func (s Status) Pending() bool { return s.Current < s.Latest }

// LatestVersion is the number of migrations embedded in this binary, which
// is the version MigrateUp reaches. It returns 0 only if the embedded files
// are malformed, which the package tests rule out.
func LatestVersion() int32 {
	paths, err := migrate.FindMigrations(migrations.FS)
	if err != nil {
		return 0
	}
	return int32(len(paths))
}

// MigrateUp applies every pending migration. Concurrent callers on the same
// database wait for each other; all of them succeed.
func MigrateUp(ctx context.Context, databaseURL string) error {
	return withMigrator(ctx, databaseURL, func(m *migrate.Migrator) error {
		if err := m.Migrate(ctx); err != nil {
			return fmt.Errorf("migrate up: %w", err)
		}
		return nil
	})
}

// MigrateDown reverts the latest applied migration, one step. At version 0
// it does nothing.
func MigrateDown(ctx context.Context, databaseURL string) error {
	return withMigrator(ctx, databaseURL, func(m *migrate.Migrator) error {
		current, err := m.GetCurrentVersion(ctx)
		if err != nil {
			return fmt.Errorf("migrate down: read version: %w", err)
		}
		if current == 0 {
			return nil
		}
		if err := m.MigrateTo(ctx, current-1); err != nil {
			return fmt.Errorf("migrate down to %d: %w", current-1, err)
		}
		return nil
	})
}

// MigrationStatus reports the applied and the latest version without
// changing the database (not even creating the version table).
func MigrationStatus(ctx context.Context, databaseURL string) (Status, error) {
	st := Status{Latest: LatestVersion()}
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return st, fmt.Errorf("migration status: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	current, err := schemaVersion(ctx, conn)
	if err != nil {
		return st, fmt.Errorf("migration status: %w", err)
	}
	st.Current = current
	return st, nil
}

// schemaVersion reads the applied version, 0 when the version table does
// not exist yet.
func schemaVersion(ctx context.Context, q querier) (int32, error) {
	var exists bool
	if err := q.QueryRow(ctx, "select to_regclass($1) is not null", VersionTable).Scan(&exists); err != nil {
		return 0, fmt.Errorf("find version table: %w", err)
	}
	if !exists {
		return 0, nil
	}
	var v int32
	if err := q.QueryRow(ctx, "select version from "+VersionTable).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// withMigrator runs fn with a loaded migrator on a dedicated connection,
// holding the Herald migration lock for the whole call.
func withMigrator(ctx context.Context, databaseURL string, fn func(*migrate.Migrator) error) (err error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	// Closing the session also releases the advisory lock, even when the
	// explicit unlock below cannot run because ctx is done.
	defer conn.Close(context.WithoutCancel(ctx))

	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", migrateLockKey); err != nil {
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	defer func() {
		_, unlockErr := conn.Exec(context.WithoutCancel(ctx), "select pg_advisory_unlock($1)", migrateLockKey)
		if err == nil && unlockErr != nil {
			err = fmt.Errorf("migrate: release lock: %w", unlockErr)
		}
	}()

	m, err := migrate.NewMigrator(ctx, conn, VersionTable)
	if err != nil {
		return fmt.Errorf("migrate: prepare version table: %w", err)
	}
	if err := m.LoadMigrations(migrations.FS); err != nil {
		return fmt.Errorf("migrate: load migrations: %w", err)
	}
	return fn(m)
}

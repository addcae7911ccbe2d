// Package postgres is the control plane's PostgreSQL adapter and the only
// place in Herald that speaks SQL. It applies the schema in migrations/ and
// implements controlplane.Store over a pgx pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/internal/secretbox"
)

// SQLSTATE codes the store maps to domain errors.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// Config configures a Store.
type Config struct {
	// Pool is the database; required. The caller owns it and closes it
	// after the Store is no longer used.
	Pool *pgxpool.Pool
	// Box seals and opens app key secrets; required.
	Box *secretbox.Box
	// Logger receives operational messages, never secrets; nil discards.
	Logger *slog.Logger
}

// Store implements controlplane.Store on PostgreSQL. It is safe for
// concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	box    *secretbox.Box
	logger *slog.Logger
}

var _ controlplane.Store = (*Store)(nil)

// NewStore returns a Store over cfg.Pool. It does not touch the database;
// call Ping to check that it is reachable and migrated.
func NewStore(cfg Config) (*Store, error) {
	if cfg.Pool == nil {
		return nil, errors.New("postgres store: Config.Pool is required")
	}
	if cfg.Box == nil {
		return nil, errors.New("postgres store: Config.Box is required")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Store{pool: cfg.Pool, box: cfg.Box, logger: logger}, nil
}

// Ping checks that the database answers and that its schema is at
// LatestVersion; otherwise the error wraps ErrMigrationsPending.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, "select 1").Scan(&one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	v, err := schemaVersion(ctx, s.pool)
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	latest := LatestVersion()
	switch {
	case v < latest:
		return fmt.Errorf("ping database: schema version %d, want %d: %w", v, latest, ErrMigrationsPending)
	case v > latest:
		// Another process migrated further: this binary is older than
		// the schema and may not understand it.
		return fmt.Errorf("ping database: schema version %d is newer than this binary's %d", v, latest)
	}
	return nil
}

// querier is what pgx.Conn, pgxpool.Pool and pgx.Tx have in common.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// pgCode returns the SQLSTATE of a Postgres error, or "".
func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// inTx runs fn in a read-committed transaction, committing when it returns
// nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// utc normalizes database times so that every value the store returns is
// in UTC whatever the server or client time zone.
func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

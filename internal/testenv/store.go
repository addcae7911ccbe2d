package testenv

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testinfra"
)

// MigratedPostgres returns the URL of a fresh database (see testinfra.Postgres) with
// every migration applied.
func MigratedPostgres(tb testing.TB) string {
	tb.Helper()
	url := testinfra.Postgres(tb)
	if err := postgres.MigrateUp(context.Background(), url); err != nil {
		tb.Fatalf("testenv: migrate: %v", err)
	}
	return url
}

// MasterBox returns a secretbox under a fresh master key.
func MasterBox(tb testing.TB) *secretbox.Box {
	tb.Helper()
	key, err := secretbox.ParseKey(secretbox.GenerateKey())
	if err != nil {
		tb.Fatalf("testenv: master key: %v", err)
	}
	box, err := secretbox.New(key)
	if err != nil {
		tb.Fatalf("testenv: secretbox: %v", err)
	}
	return box
}

// OpenStore opens a control-plane store on the database at url, as it is,
// sealing secrets under a fresh master key. The pool closes at cleanup.
func OpenStore(tb testing.TB, url string) (*postgres.Store, *pgxpool.Pool) {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		tb.Fatalf("testenv: pgxpool: %v", err)
	}
	tb.Cleanup(pool.Close)
	store, err := postgres.NewStore(postgres.Config{Pool: pool, Box: MasterBox(tb)})
	if err != nil {
		tb.Fatalf("testenv: store: %v", err)
	}
	return store, pool
}

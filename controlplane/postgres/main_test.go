package postgres_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// fixture is a Store on a fresh, migrated database.
type fixture struct {
	url   string
	pool  *pgxpool.Pool
	box   *secretbox.Box
	store *postgres.Store
	logs  *testinfra.LogBuffer
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	url := testinfra.Postgres(tb)
	if err := postgres.MigrateUp(context.Background(), url); err != nil {
		tb.Fatalf("migrate up: %v", err)
	}
	return newFixtureAt(tb, url)
}

// newFixtureAt is a Store on the database at url, as it is.
func newFixtureAt(tb testing.TB, url string) *fixture {
	tb.Helper()
	pool := newPool(tb, url)
	box := testenv.MasterBox(tb)
	logs := &testinfra.LogBuffer{}
	store, err := postgres.NewStore(postgres.Config{
		Pool:   pool,
		Box:    box,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		tb.Fatalf("new store: %v", err)
	}
	return &fixture{url: url, pool: pool, box: box, store: store, logs: logs}
}

func newPool(tb testing.TB, url string) *pgxpool.Pool {
	tb.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		tb.Fatalf("pgxpool: %v", err)
	}
	tb.Cleanup(pool.Close)
	return pool
}

func (f *fixture) account(tb testing.TB, name string) controlplane.Account {
	tb.Helper()
	a, err := f.store.CreateAccount(context.Background(), name)
	if err != nil {
		tb.Fatalf("create account %q: %v", name, err)
	}
	return a
}

func (f *fixture) app(tb testing.TB, accountID, id string) controlplane.App {
	tb.Helper()
	a, err := f.store.CreateApp(context.Background(), controlplane.NewApp{ID: id, AccountID: accountID, Name: "app " + id})
	if err != nil {
		tb.Fatalf("create app %q: %v", id, err)
	}
	return a
}

// apps creates an account and, under it, an app for each id.
func (f *fixture) apps(tb testing.TB, ids ...string) controlplane.Account {
	tb.Helper()
	acc := f.account(tb, "acme")
	for _, id := range ids {
		f.app(tb, acc.ID, id)
	}
	return acc
}

// keys creates keys of appID with generated secrets.
func (f *fixture) keys(tb testing.TB, appID string, keys ...string) {
	tb.Helper()
	for _, k := range keys {
		f.key(tb, appID, k, "")
	}
}

func (f *fixture) key(tb testing.TB, appID, key, secret string) controlplane.NewKey {
	tb.Helper()
	k, err := f.store.CreateKey(context.Background(), appID, key, secret)
	if err != nil {
		tb.Fatalf("create key %q for %s: %v", key, appID, err)
	}
	return k
}

// sealedSecret reads a key's stored bytes straight from the table.
func (f *fixture) sealedSecret(tb testing.TB, key string) []byte {
	tb.Helper()
	var sealed []byte
	err := f.pool.QueryRow(context.Background(), "select sealed_secret from app_keys where key = $1", key).Scan(&sealed)
	if err != nil {
		tb.Fatalf("read sealed secret of %s: %v", key, err)
	}
	return sealed
}

// wantError fails unless err is a *channels.Error with code and, when
// field is not empty, that field.
func wantError(tb testing.TB, err error, code channels.Code, field string) *channels.Error {
	tb.Helper()
	var de *channels.Error
	if !errors.As(err, &de) {
		tb.Fatalf("error = %v (%T), want *channels.Error %s", err, err, code)
	}
	if de.Code != code {
		tb.Fatalf("error code = %s (%q), want %s", de.Code, de.Message, code)
	}
	if field != "" && de.Field != field {
		tb.Fatalf("error field = %q (%q), want %q", de.Field, de.Message, field)
	}
	return de
}

func TestNewStoreRequiresPoolAndBox(t *testing.T) {
	t.Parallel()
	if _, err := postgres.NewStore(postgres.Config{Box: testenv.MasterBox(t)}); err == nil {
		t.Error("NewStore without Pool: no error")
	}
	pool, err := pgxpool.New(context.Background(), "postgres://localhost:1/none")
	if err != nil {
		t.Fatalf("pgxpool: %v", err)
	}
	defer pool.Close()
	if _, err := postgres.NewStore(postgres.Config{Pool: pool}); err == nil {
		t.Error("NewStore without Box: no error")
	}
	if _, err := postgres.NewStore(postgres.Config{Pool: pool, Box: testenv.MasterBox(t)}); err != nil {
		t.Errorf("NewStore with nil Logger: %v", err)
	}
}

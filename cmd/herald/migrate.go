package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/heraldhq/herald/cmd/herald/internal/config"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/platform"
)

const migrateUsage = `Usage: herald migrate [flags] up|down|status [flags]

  up      apply every pending migration
  down    roll back the latest migration
  status  print the current and latest schema versions

Without --database-url it uses the managed cluster of the data folder
--data-dir, which herald dev made on its first start (migrate makes no
data folder). While herald dev runs on that folder, migrate uses dev's
cluster and leaves it running: status works, up only reports (dev applied
every migration it knows when it started), and a change to the schema is
refused until dev stops.
`

// migrateActions are the actions of herald migrate.
var migrateActions = []string{"up", "down", "status"}

// errDevRunning refuses a schema change under the herald that owns the
// cluster: it was started against the schema it found.
var errDevRunning = errors.New("stop it first")

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("herald migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, migrateUsage); fs.PrintDefaults() }
	var cfg platform.Config
	fs.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL; empty uses dev mode's managed cluster")
	fs.StringVar(&cfg.DataDir, "data-dir", platform.DefaultDataDir, "dev mode's data folder (with no --database-url)")
	fs.StringVar(&cfg.PGBinDir, "pg-bin-dir", "", "folder of initdb and pg_ctl")
	if err := config.Parse(fs, args, getenv); err != nil {
		return usageError(err)
	}
	// Flags may follow the action too, as in herald admin.
	pos, err := parseInterleaved(fs, fs.Args())
	if err != nil {
		return usageError(err)
	}
	if len(pos) != 1 || !slices.Contains(migrateActions, pos[0]) {
		fmt.Fprintf(stderr, "herald migrate: %s\n\n", migrateArgsProblem(pos))
		fs.Usage()
		return 2
	}
	action := pos[0]
	db, err := platform.OpenDatabase(ctx, cfg, "herald migrate")
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate: %v\n", err)
		return 1
	}
	defer func() { _ = db.Close() }()

	st, err := migrate(ctx, db, action)
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate %s: %v\n", action, err)
		return 1
	}
	fmt.Fprintf(stdout, "schema version %d of %d\n", st.Current, st.Latest)
	return 0
}

// migrateArgsProblem says what is wrong with the arguments left after the
// flags.
func migrateArgsProblem(pos []string) string {
	switch {
	case len(pos) == 0:
		return "missing action: up, down or status"
	case len(pos) > 1:
		return fmt.Sprintf("one action only, got %q", pos)
	default:
		return fmt.Sprintf("unknown action %q: up, down or status", pos[0])
	}
}

// migrate runs action and returns the schema status after it. On a
// cluster shared with a running herald it changes nothing: a down would
// pull tables from under it, and an up with pending migrations would
// change the schema of a herald built for an older one.
func migrate(ctx context.Context, db *platform.Database, action string) (postgres.Status, error) {
	if db.Shared && action != "status" {
		st, err := postgres.MigrationStatus(ctx, db.URL)
		if err != nil {
			return st, err
		}
		if action == "down" || st.Current < st.Latest {
			return st, fmt.Errorf("%s is running on %s: %w", db.Holder, db.DataDir, errDevRunning)
		}
		return st, nil
	}
	var err error
	switch action {
	case "up":
		err = postgres.MigrateUp(ctx, db.URL)
	case "down":
		err = postgres.MigrateDown(ctx, db.URL)
	}
	if err != nil {
		return postgres.Status{}, err
	}
	return postgres.MigrationStatus(ctx, db.URL)
}

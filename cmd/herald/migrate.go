package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/heraldhq/herald/cmd/herald/internal/config"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/platform"
)

const migrateUsage = `Usage: herald migrate [flags] up|down|status

  up      apply every pending migration
  down    roll back the latest migration
  status  print the current and latest schema versions

Without --database-url it uses dev mode's managed cluster of --data-dir.
`

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
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	action := fs.Arg(0)
	if action != "up" && action != "down" && action != "status" {
		fs.Usage()
		return 2
	}
	url, stop, err := platform.OpenDatabase(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate: %v\n", err)
		return 1
	}
	defer func() { _ = stop(context.Background()) }()

	switch action {
	case "up":
		err = postgres.MigrateUp(ctx, url)
	case "down":
		err = postgres.MigrateDown(ctx, url)
	}
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate %s: %v\n", action, err)
		return 1
	}
	st, err := postgres.MigrationStatus(ctx, url)
	if err != nil {
		fmt.Fprintf(stderr, "herald migrate: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "schema version %d of %d\n", st.Current, st.Latest)
	return 0
}

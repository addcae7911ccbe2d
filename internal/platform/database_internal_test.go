package platform

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/jackc/pgx/v5"
)

// migrateCommand names the opener in these tests, as herald migrate does.
const migrateCommand = "herald migrate"

// TestOpenDatabaseNeedsDataDir: without --database-url, a folder herald
// dev never ran in, or one without a managed cluster, is refused, and
// neither a folder nor a cluster is made (a typo in --data-dir must not
// leave a new cluster behind).
func TestOpenDatabaseNeedsDataDir(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string) error
	}{
		{"missing folder", func(string) error { return nil }},
		{"empty folder", func(dir string) error { return os.Mkdir(dir, 0o700) }},
		{"lock file but no cluster", func(dir string) error {
			if err := os.Mkdir(dir, 0o700); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, lockFile), nil, 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			if err := tc.setup(dir); err != nil {
				t.Fatal(err)
			}
			clusterDir, err := pgcluster.DirFor(dir)
			if err != nil {
				t.Fatal(err)
			}
			before, _ := os.ReadDir(dir)
			db, err := OpenDatabase(context.Background(), Config{DataDir: dir}, migrateCommand)
			if !errors.Is(err, ErrNoDataDir) {
				t.Fatalf("OpenDatabase = %+v, %v; want ErrNoDataDir", db, err)
			}
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("the data folder went from %d to %d entries", len(before), len(after))
			}
			if _, err := os.Stat(clusterDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("cluster folder %s was made (stat: %v)", clusterDir, err)
			}
		})
	}
}

// TestOpenDatabaseSharesRunningCluster: while herald dev holds the data
// folder, OpenDatabase connects to dev's cluster and Close leaves it
// running; once dev is gone, OpenDatabase holds the folder itself (a dev
// starting then is refused with its name) and Close stops the cluster it
// started.
func TestOpenDatabaseSharesRunningCluster(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	clusterDir, err := pgcluster.DirFor(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(clusterDir) })
	dev := devWithCluster(t, dataDir)
	devURL := dev.parts.pgCluster.URL("")
	devPID := dev.parts.pgCluster.PID()

	db, err := OpenDatabase(ctx, Config{DataDir: dataDir}, migrateCommand)
	if err != nil {
		t.Fatal(err)
	}
	want := LockHolder{PID: os.Getpid(), Command: devCommand}
	if !db.Shared || db.Holder != want || db.URL != devURL {
		t.Fatalf("OpenDatabase beside dev = %+v; want shared with %v at %s", db, want, devURL)
	}
	ping(t, db.URL)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	ping(t, devURL)
	if pid := dev.parts.pgCluster.PID(); pid != devPID {
		t.Fatalf("dev's postgres pid %d, was %d", pid, devPID)
	}
	if _, err := pgcluster.RunningURL(clusterDir, ""); err != nil {
		t.Fatalf("dev's cluster after Close: %v", err)
	}

	if err := dev.shutdown(); err != nil {
		t.Fatal(err)
	}
	db, err = OpenDatabase(ctx, Config{DataDir: dataDir}, migrateCommand)
	if err != nil {
		t.Fatal(err)
	}
	if db.Shared {
		t.Fatalf("OpenDatabase with dev stopped = %+v; want its own cluster", db)
	}
	ping(t, db.URL)
	second := &Platform{cfg: Config{Mode: ModeDev, DataDir: dataDir}}
	wantErr := "data folder " + dataDir + " is in use by herald migrate (pid " + strconv.Itoa(os.Getpid()) + "); stop it, or pick another folder with --data-dir"
	if err := second.lockDataDir(); err == nil || err.Error() != wantErr {
		t.Fatalf("dev beside OpenDatabase: %v; want %q", err, wantErr)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pgcluster.RunningURL(clusterDir, ""); !errors.Is(err, pgcluster.ErrNotRunning) {
		t.Fatalf("cluster after Close of the owner: %v; want ErrNotRunning", err)
	}
}

// devWithCluster holds dataDir and runs its managed cluster as herald dev
// does, until the test ends.
func devWithCluster(t *testing.T, dataDir string) *Platform {
	t.Helper()
	dev, err := New(Config{Mode: ModeDev, DataDir: dataDir, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dev.shutdown() })
	if err := dev.openDataDir(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.startPostgres(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dev
}

func ping(t *testing.T, url string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	if err := conn.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

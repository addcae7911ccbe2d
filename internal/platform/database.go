package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald/internal/pgcluster"
)

// databaseCheckTimeout bounds the first connection to --database-url.
const databaseCheckTimeout = 10 * time.Second

// ErrNoDataDir is returned by OpenDatabase for a data folder that herald
// dev never ran in, or one without a managed cluster: a command that only
// uses the database (herald migrate) creates neither, since a typo in
// --data-dir would otherwise leave a new, empty cluster behind.
var ErrNoDataDir = errors.New("no Herald data folder")

// Database is the database a command uses (OpenDatabase).
type Database struct {
	// URL is the connection string.
	URL string
	// Shared is true when the data folder's managed cluster belongs to a
	// running herald (Holder), which the command must leave alone: it
	// connects to that herald's server and never stops it.
	Shared bool
	// Holder is the herald process that owns the cluster when Shared.
	Holder LockHolder
	// DataDir is the absolute data folder; "" with --database-url.
	DataDir string

	close func() error
}

// Close stops what OpenDatabase started (the managed cluster) and releases
// the data folder. A shared cluster keeps running.
func (d *Database) Close() error {
	if d.close == nil {
		return nil
	}
	return d.close()
}

// OpenDatabase returns the database a command should use: cfg's
// DatabaseURL, or else dev mode's managed cluster of cfg.DataDir. command
// names the caller in the data folder's lock file. If a running herald
// holds the data folder, the command shares that herald's cluster;
// otherwise it holds the folder itself and starts the cluster, until Close.
// The data folder and its cluster must exist (ErrNoDataDir).
func OpenDatabase(ctx context.Context, cfg Config, command string) (*Database, error) {
	cfg.setDefaults()
	if cfg.DatabaseURL != "" {
		return &Database{URL: cfg.DatabaseURL}, nil
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	cfg.DataDir = abs
	dir, err := pgcluster.DirFor(abs)
	if err != nil {
		return nil, err
	}
	p := &Platform{cfg: cfg}
	// Without create: herald dev makes the lock file on its first start,
	// so a folder without one is not a Herald data folder.
	err = p.lockDataDirAs(command, false)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: start herald dev --data-dir %s once to make one, or pass --database-url",
			ErrNoDataDir, abs, abs)
	}
	if inUse := (*dataDirInUseError)(nil); errors.As(err, &inUse) {
		return shareCluster(abs, dir, inUse.holder)
	}
	if err != nil {
		return nil, err
	}
	db, err := p.ownCluster(ctx, dir)
	if err != nil {
		_ = p.shutdown()
		return nil, err
	}
	return db, nil
}

// shareCluster connects to the cluster that the running holder of the
// data folder started. Start would adopt that server and Stop would shut
// it down under its owner, so neither is called.
func shareCluster(dataDir, clusterDir string, holder LockHolder) (*Database, error) {
	u, err := pgcluster.RunningURL(clusterDir, pgcluster.DefaultDatabase)
	if errors.Is(err, pgcluster.ErrNotRunning) {
		return nil, fmt.Errorf("%s runs on %s but its PostgreSQL cluster is not ready; try again once it serves, or stop it first",
			holder, dataDir)
	}
	if err != nil {
		return nil, err
	}
	return &Database{URL: u, Shared: true, Holder: holder, DataDir: dataDir}, nil
}

// ownCluster starts the data folder's managed cluster for a caller that
// holds the folder's lock; Close stops it and releases the lock.
func (p *Platform) ownCluster(ctx context.Context, clusterDir string) (*Database, error) {
	ok, err := pgcluster.Initialized(clusterDir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s has no managed PostgreSQL cluster (herald dev ran there with --database-url, or never finished starting); pass --database-url",
			ErrNoDataDir, p.cfg.DataDir)
	}
	u, err := p.startPostgres(ctx)
	if err != nil {
		return nil, err
	}
	return &Database{URL: u, DataDir: p.cfg.DataDir, close: p.shutdown}, nil
}

// checkDatabase connects to --database-url once. Its error is one line
// that names the URL (password hidden) and, in dev mode, the way back to
// the managed cluster.
func (p *Platform) checkDatabase(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, databaseCheckTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.cfg.DatabaseURL)
	if err == nil {
		err = conn.Ping(ctx)
		_ = conn.Close(context.WithoutCancel(ctx))
	}
	if err == nil {
		return nil
	}
	hint := ""
	if p.cfg.Mode == ModeDev {
		hint = "; leave --database-url out to run a managed PostgreSQL cluster in the data folder"
	}
	return &databaseError{url: redactURL(p.cfg.DatabaseURL), err: err, hint: hint}
}

// databaseError is a --database-url that cannot be used.
type databaseError struct {
	url  string // password hidden
	err  error
	hint string
}

// Error is one line. The driver's message has a line per attempt, and
// with sslmode=prefer (the default) it tries twice, failing the same way.
func (e *databaseError) Error() string {
	var parts []string
	for _, line := range strings.Split(e.err.Error(), "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line != "" && !slices.Contains(parts, line) {
			parts = append(parts, line)
		}
	}
	return fmt.Sprintf("cannot connect to --database-url %s: %s%s", e.url, strings.Join(parts, " "), e.hint)
}

func (e *databaseError) Unwrap() error { return e.err }

// redactURL hides the password of a database URL. A key=value connection
// string is not shown: where its password is cannot be told reliably.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return "(a key=value connection string)"
	}
	return u.Redacted()
}

// Package pgcluster runs a private PostgreSQL cluster from the installed
// server binaries: herald dev uses one when no database is configured, and
// tests use throwaway ones. A cluster lives in one folder (data folder,
// socket folder, server log) and listens only on a Unix socket in that
// folder, so clusters never collide on ports and nothing is reachable over
// the network. It needs Linux (/proc; elsewhere Start and StopDir return
// ErrUnsupportedSystem) and the initdb, pg_ctl and postgres programs.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Defaults for zero Config fields.
const (
	DefaultDatabase     = "herald"
	DefaultStartTimeout = 60 * time.Second
	DefaultStopTimeout  = 30 * time.Second
)

// MaxLogSize is the size past which the server log is moved to
// server.log.1 (replacing the previous one) before a start, so that a
// long-lived dev cluster does not fill the disk.
const MaxLogSize = 16 << 20

// probeTimeout bounds the connection attempt that decides whether a server
// left running by a previous herald can be reused.
const probeTimeout = 5 * time.Second

// parentPerm is the mode of parent folders Start creates.
const parentPerm = 0o755

// folderPerm keeps the cluster folder and socket folder private to the
// server user (and root).
const folderPerm = 0o700

// Config describes a cluster. Zero fields take the documented defaults.
type Config struct {
	// Dir is the cluster folder, created if missing. It holds the data
	// folder, the socket folder and the server log. Required.
	Dir string
	// BinDir holds initdb, pg_ctl and postgres; empty means FindBinaries("").
	BinDir string
	// RunAs is the OS user the server runs as when herald runs as root;
	// empty means DefaultRunAs, or FallbackRunAs if that user does not
	// exist. Ignored when not root.
	RunAs string
	// Database is created if missing; empty means DefaultDatabase.
	Database string
	// Fast turns off fsync, synchronous_commit and full_page_writes, and
	// initdb's final sync: for throwaway test clusters only.
	Fast bool
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
	// StartTimeout bounds Start, initdb included; zero means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// InitCache, if set, is a folder where the result of initdb is kept,
	// per installation and mode, and copied into new clusters instead of
	// running initdb, which is several times slower. It is meant for
	// throwaway test clusters: the copies share one system identifier. If
	// the cache cannot be used, Start logs a warning and runs initdb.
	InitCache string
	// StopTimeout bounds the fast shutdown in Stop before it falls back to
	// an immediate one; zero means DefaultStopTimeout.
	StopTimeout time.Duration
	// Owner is the folder the cluster belongs to (herald dev's data
	// folder). Start records it in the cluster folder, so that Sweep can
	// remove the cluster once that folder is gone. Empty records nothing.
	Owner string
}

// Cluster is a running server. Its methods are safe for concurrent use.
type Cluster struct {
	layout      layout
	run         runner
	database    string
	logger      *slog.Logger
	stopTimeout time.Duration
	pid         int
	reused      bool

	mu      sync.Mutex
	stopped bool
}

// Start initializes the cluster in cfg.Dir if needed, starts its server
// (or adopts the one a previous, killed herald left running, if it answers)
// and creates cfg.Database if missing. The server runs in its own session:
// it outlives herald unless Stop is called.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := checkSystem(); err != nil {
		return nil, err
	}
	if cfg.Dir == "" {
		return nil, errors.New("pgcluster: Config.Dir is required")
	}
	c, err := newCluster(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	begin := time.Now()
	if err := c.prepareFolder(); err != nil {
		return nil, err
	}
	unlock, err := lockFolder(ctx, c.layout.lock)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Under the lock: Sweep reads the owner before taking it.
	if err := recordOwner(c.layout, cfg.Owner); err != nil {
		return nil, err
	}
	if err := c.initialize(ctx, cfg.Fast, cfg.InitCache); err != nil {
		return nil, err
	}
	if err := c.configure(cfg.Fast); err != nil {
		return nil, err
	}
	if err := c.startServer(ctx); err != nil {
		return nil, err
	}
	if err := c.ensureDatabase(ctx, c.database); err != nil {
		return nil, errors.Join(err, c.Stop(context.WithoutCancel(ctx)))
	}
	c.logger.Info("postgres ready", "dir", c.layout.dir, "pid", c.pid, "reused", c.reused,
		"took", time.Since(begin).Round(time.Millisecond))
	return c, nil
}

func newCluster(cfg Config) (*Cluster, error) {
	l, err := newLayout(cfg.Dir)
	if err != nil {
		return nil, err
	}
	bin, err := FindBinaries(cfg.BinDir)
	if err != nil {
		return nil, err
	}
	as, err := resolveRunAs(cfg.RunAs)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		layout:      l,
		run:         runner{binDir: bin, as: as, cwd: l.dir},
		database:    cfg.Database,
		logger:      cfg.Logger,
		stopTimeout: cfg.StopTimeout,
	}
	if c.database == "" {
		c.database = DefaultDatabase
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.stopTimeout <= 0 {
		c.stopTimeout = DefaultStopTimeout
	}
	return c, nil
}

// prepareFolder creates the cluster and socket folders and hands them to
// the server user.
func (c *Cluster) prepareFolder() error {
	as := c.run.as
	// Missing parents are created open to all, like mkdir -p, so that the
	// server user can reach the cluster folder through them.
	if err := os.MkdirAll(filepath.Dir(c.layout.dir), parentPerm); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	if err := as.checkReachable(c.layout.dir); err != nil {
		return err
	}
	for _, d := range []string{c.layout.dir, c.layout.socket} {
		if err := os.MkdirAll(d, folderPerm); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := os.Chmod(d, folderPerm); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := as.chown(d); err != nil {
			return err
		}
	}
	if _, err := os.Stat(c.layout.data); err == nil && !as.owns(c.layout.data) {
		return as.chownTree(c.layout.dir)
	}
	return nil
}

// startServer adopts a healthy server already running on the data folder,
// or starts one.
func (c *Cluster) startServer(ctx context.Context) error {
	pid, status, err := runningPostmaster(c.layout)
	if err != nil {
		return err
	}
	if pid != 0 {
		if status == statusReady && c.probe(ctx) == nil {
			c.pid, c.reused = pid, true
			return nil
		}
		c.logger.Warn("postgres left running does not answer; restarting it", "pid", pid, "status", status)
		if err := c.shutdown(ctx); err != nil {
			return err
		}
	} else if err := removeStaleLocks(c.layout); err != nil {
		return err
	}
	c.rotateLog()
	err = c.run.run(ctx, "pg_ctl", "start",
		"--pgdata="+c.layout.data,
		"--log="+c.layout.log,
		"--wait",
		"--timeout="+strconv.Itoa(ceilSeconds(ctx)),
		"--silent")
	if err != nil {
		// pg_ctl may have timed out on a server that is still starting.
		stopErr := StopDir(context.WithoutCancel(ctx), c.layout.dir)
		return errors.Join(fmt.Errorf("pgcluster: start server: %w\nserver log %s ends with:\n%s",
			err, c.layout.log, tailFile(c.layout.log, logTailLines)), stopErr)
	}
	pid, _, err = runningPostmaster(c.layout)
	if err == nil && pid == 0 {
		err = fmt.Errorf("pgcluster: server started but %s names no live server", c.layout.pidFile())
	}
	if err != nil {
		return errors.Join(err, StopDir(context.WithoutCancel(ctx), c.layout.dir))
	}
	c.pid = pid
	return nil
}

// ceilSeconds returns the time left before ctx's deadline in whole
// seconds, at least one, as pg_ctl --timeout wants.
func ceilSeconds(ctx context.Context) int {
	d, ok := ctx.Deadline()
	if !ok {
		return int(DefaultStartTimeout / time.Second)
	}
	return max(1, int(math.Ceil(time.Until(d).Seconds())))
}

func (c *Cluster) rotateLog() {
	fi, err := os.Stat(c.layout.log)
	if err != nil || fi.Size() < MaxLogSize {
		return
	}
	if err := os.Rename(c.layout.log, c.layout.log+".1"); err != nil {
		c.logger.Warn("rotate postgres log", "err", err)
	}
}

// probe checks that the server accepts connections on our socket.
func (c *Cluster) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}

// ensureDatabase creates db unless it exists.
func (c *Cluster) ensureDatabase(ctx context.Context, db string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", db).Scan(&exists)
	if err != nil {
		return fmt.Errorf("pgcluster: look up database %s: %w", db, err)
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: created meanwhile
		return nil
	}
	if err != nil {
		return fmt.Errorf("pgcluster: create database %s: %w", db, err)
	}
	return nil
}

// Dir returns the cluster folder.
func (c *Cluster) Dir() string { return c.layout.dir }

// DataDir returns the server's data folder (PGDATA).
func (c *Cluster) DataDir() string { return c.layout.data }

// SocketDir returns the folder of the server's Unix socket.
func (c *Cluster) SocketDir() string { return c.layout.socket }

// LogFile returns the path of the server log.
func (c *Cluster) LogFile() string { return c.layout.log }

// PID returns the process id of the server's postmaster.
func (c *Cluster) PID() int { return c.pid }

// Reused reports whether Start adopted a server that was already running
// (left behind by a herald that was killed) instead of starting one.
func (c *Cluster) Reused() bool { return c.reused }

// URL returns a connection string for pgx (and libpq) to database db, or to
// the Config's Database when db is empty, as the superuser over the Unix
// socket: postgres://herald@/db?host=/path/to/sock&port=5432&sslmode=disable.
// Port and sslmode are explicit so that PGPORT or PGSSLMODE in the
// environment cannot redirect it.
func (c *Cluster) URL(db string) string {
	if db == "" {
		db = c.database
	}
	return c.layout.url(db)
}

// url is the connection string of database db over l's socket (Cluster.URL).
func (l layout) url(db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(Superuser), Path: "/" + db}
	// Slashes are legal in a query and keep the URL readable; a space is
	// %20 because libpq, unlike Go, does not read "+" as a space.
	host := strings.NewReplacer("%2F", "/", "+", "%20").Replace(url.QueryEscape(l.socket))
	u.RawQuery = "host=" + host + "&port=" + strconv.Itoa(Port) + "&sslmode=disable"
	return u.String()
}

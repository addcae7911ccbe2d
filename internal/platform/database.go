package platform

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// databaseCheckTimeout bounds the first connection to --database-url.
const databaseCheckTimeout = 10 * time.Second

// OpenDatabase returns the database URL a command should use: cfg's
// DatabaseURL, or else dev mode's managed cluster for cfg.DataDir, started
// for the caller. The returned stop function stops what was started.
func OpenDatabase(ctx context.Context, cfg Config) (url string, stop func(context.Context) error, err error) {
	cfg.setDefaults()
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func(context.Context) error { return nil }, nil
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return "", nil, err
	}
	cfg.DataDir = abs
	p := &Platform{cfg: cfg}
	url, err = p.startPostgres(ctx)
	if err != nil {
		return "", nil, err
	}
	return url, func(ctx context.Context) error { return p.shutdown() }, nil
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

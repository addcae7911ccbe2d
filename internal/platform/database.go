package platform

import (
	"context"
	"path/filepath"
)

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

package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/heraldhq/herald/internal/pgcluster"
)

// freshDataDir reports whether dev mode is about to generate the master
// key: the data folder is new (or was emptied). Call it before the key is
// read or made.
func (p *Platform) freshDataDir() (bool, error) {
	if p.cfg.Mode != ModeDev || p.cfg.MasterKey != "" {
		return false, nil
	}
	_, err := os.Stat(filepath.Join(p.cfg.DataDir, masterKeyFile))
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	default:
		return false, fmt.Errorf("master key: %w", err)
	}
}

// dropStaleCluster removes a managed cluster that a new data folder would
// otherwise inherit. As root (or with a long data folder path) the
// cluster lives outside the data folder, under a name derived from its
// path, so deleting the folder leaves the cluster behind; the next data
// folder at that path would reuse it, with secrets sealed under a master
// key that is gone, and dev mode could not start. A cluster inside the
// data folder went with it, so only an outside one is checked.
func (p *Platform) dropStaleCluster(ctx context.Context, dir string) error {
	if rel, err := filepath.Rel(p.cfg.DataDir, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	p.cfg.Logger.Warn("removing the managed PostgreSQL cluster left by an earlier data folder at this path",
		slog.String("data_dir", p.cfg.DataDir), slog.String("cluster_dir", dir))
	if err := pgcluster.StopDir(ctx, dir); err != nil {
		return fmt.Errorf("stop stale postgres: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove stale postgres: %w", err)
	}
	return nil
}

package platform

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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

// openDataDir creates dev mode's data folder, makes its path absolute and
// locks it; with Reset it then deletes what an earlier dev left there.
func (p *Platform) openDataDir(ctx context.Context) error {
	if err := os.MkdirAll(p.cfg.DataDir, 0o700); err != nil {
		return writableHint(fmt.Errorf("cannot create the data folder %s: %w", p.cfg.DataDir, err))
	}
	abs, err := filepath.Abs(p.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	p.cfg.DataDir = abs
	if err := p.lockDataDir(); err != nil {
		return err
	}
	if p.cfg.Reset {
		return p.reset(ctx)
	}
	return nil
}

// resetEntries are what dev mode keeps in the data folder (besides the
// lock, which the resetting process holds). Reset deletes these and
// nothing else: other files there are the user's.
var resetEntries = []string{masterKeyFile, AdminTokenFile, URLFile, natsDir}

// reset deletes the data folder's managed cluster (stopping its server if
// a killed dev left one running) and dev mode's files, and says so. The
// caller holds the data folder lock.
func (p *Platform) reset(ctx context.Context) error {
	dir, err := pgcluster.DirFor(p.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	if err := pgcluster.RemoveDir(ctx, dir); err != nil {
		return fmt.Errorf("reset: %w", err)
	}
	for _, name := range resetEntries {
		if err := os.RemoveAll(filepath.Join(p.cfg.DataDir, name)); err != nil {
			return fmt.Errorf("reset: %w", err)
		}
	}
	fmt.Fprintf(p.cfg.Stdout, "herald: --reset deleted the managed PostgreSQL cluster %s and the master key, admin token and NATS store of %s\n",
		dir, p.cfg.DataDir)
	return nil
}

// sweepClusters removes the managed clusters that deleted data folders
// left in the shared folder (pgcluster.Sweep); own is this data folder's
// cluster, about to start. Nothing here stops dev from starting: the
// sweep only tidies.
func (p *Platform) sweepClusters(ctx context.Context, own string) {
	res, err := pgcluster.Sweep(ctx, pgcluster.SharedTempRoot)
	for _, d := range res.Removed {
		p.cfg.Logger.Info("removed the managed PostgreSQL cluster of a deleted data folder", slog.String("cluster_dir", d))
	}
	if others := slices.DeleteFunc(res.Unrecorded, func(d string) bool { return d == own }); len(others) > 0 {
		p.cfg.Logger.Info("managed PostgreSQL clusters made by an older herald name no data folder and are kept; delete those no longer used",
			slog.Any("cluster_dirs", others))
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, pgcluster.ErrUnsupportedSystem) {
		p.cfg.Logger.Warn("sweep abandoned PostgreSQL clusters", slog.Any("err", err))
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
	if err := pgcluster.RemoveDir(ctx, dir); err != nil {
		return fmt.Errorf("remove stale postgres: %w", err)
	}
	return nil
}

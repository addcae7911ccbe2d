package pgcluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// initCachePerm lets every user reach the per-installation cache folders,
// which belong to the server user.
const initCachePerm = 0o755

// copyFromCache fills the data folder with a copy of the cached result of
// initdb for this installation and mode, creating the cache entry first if
// needed. A cache entry is complete once its marker exists, and never
// changes after that, so copies need no lock.
func (c *Cluster) copyFromCache(ctx context.Context, root string, fast bool) error {
	key, err := cacheKey(c.run.binDir, fast)
	if err != nil {
		return err
	}
	l, err := newLayout(filepath.Join(root, key))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, initCachePerm); err != nil {
		return fmt.Errorf("pgcluster: init cache: %w", err)
	}
	as := c.run.as
	if err := as.checkReachable(l.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(l.dir, folderPerm); err != nil {
		return fmt.Errorf("pgcluster: init cache: %w", err)
	}
	if err := as.chown(l.dir); err != nil {
		return err
	}
	if err := fillCache(ctx, runner{binDir: c.run.binDir, as: as, cwd: l.dir}, l, fast); err != nil {
		return err
	}
	return copyTree(l.data, c.layout.data, as)
}

// fillCache runs initdb into the cache entry l unless it is complete.
func fillCache(ctx context.Context, run runner, l layout, fast bool) error {
	unlock, err := lockFolder(ctx, l.lock)
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(l.marker); err == nil {
		return nil
	}
	if err := os.RemoveAll(l.data); err != nil {
		return fmt.Errorf("pgcluster: init cache: %w", err)
	}
	if err := initdb(ctx, run, l, fast); err != nil {
		return err
	}
	if err := os.WriteFile(l.marker, nil, filePerm); err != nil {
		return fmt.Errorf("pgcluster: init cache: %w", err)
	}
	return nil
}

// cacheKey names the cache entry of an installation and mode; a changed
// postgres binary (an upgrade) gets a new entry.
func cacheKey(binDir string, fast bool) (string, error) {
	fi, err := os.Stat(filepath.Join(binDir, serverProgram))
	if err != nil {
		return "", fmt.Errorf("pgcluster: init cache: %w", err)
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00%d\x00%v", binDir, fi.Size(), fi.ModTime().UnixNano(), fast)
	return hex.EncodeToString(h.Sum(nil))[:dirHashLen], nil
}

// copyTree copies the folder src to dst (which must not exist), keeping
// permissions and giving everything to the server user.
func copyTree(src, dst string, as *runAs) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if err := os.Mkdir(target, info.Mode().Perm()); err != nil {
				return fmt.Errorf("pgcluster: copy: %w", err)
			}
		case info.Mode().IsRegular():
			if err := copyFile(p, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("pgcluster: copy: %s is not a regular file", p)
		}
		return as.chown(target)
	})
}

func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("pgcluster: copy: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return fmt.Errorf("pgcluster: copy: %w", err)
	}
	_, err = io.Copy(out, in) // copy_file_range: the data stays in the kernel
	if err := errors.Join(err, out.Close()); err != nil {
		return fmt.Errorf("pgcluster: copy %s: %w", src, err)
	}
	return nil
}

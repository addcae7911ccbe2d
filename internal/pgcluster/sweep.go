package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// recordOwner writes owner, made absolute, into the cluster folder unless
// it is already there. An empty owner records nothing.
func recordOwner(l layout, owner string) error {
	if owner == "" {
		return nil
	}
	abs, err := filepath.Abs(owner)
	if err != nil {
		return fmt.Errorf("pgcluster: owner: %w", err)
	}
	if got, ok := readOwner(l); ok && got == abs {
		return nil
	}
	tmp := l.owner + ".tmp"
	if err := os.WriteFile(tmp, []byte(abs+"\n"), filePerm); err != nil {
		return fmt.Errorf("pgcluster: record owner: %w", err)
	}
	if err := os.Rename(tmp, l.owner); err != nil {
		return fmt.Errorf("pgcluster: record owner: %w", err)
	}
	return nil
}

// readOwner returns the owner recorded in the cluster folder; ok is false
// when there is none (a cluster made before owners were recorded) or it is
// not an absolute path.
func readOwner(l layout) (owner string, ok bool) {
	b, err := os.ReadFile(l.owner)
	if err != nil {
		return "", false
	}
	owner = strings.TrimSpace(string(b))
	return owner, filepath.IsAbs(owner)
}

// SweepResult is what Sweep found.
type SweepResult struct {
	// Removed are the cluster folders Sweep deleted.
	Removed []string
	// Unrecorded are cluster folders that name no owner: made by a herald
	// from before owners were recorded. Sweep leaves them, since it
	// cannot tell whether their data folder still exists.
	Unrecorded []string
}

// Sweep removes the abandoned clusters in root (normally SharedTempRoot):
// the folders named DirPrefix… whose recorded owner (Config.Owner) no
// longer exists, whose server is not running and which no Start is
// preparing. A cluster whose server runs is left alone even when its
// owner is gone: something may still use it. Errors on one folder do not
// stop the others; they are returned joined, beside what was done.
func Sweep(ctx context.Context, root string) (SweepResult, error) {
	var res SweepResult
	if err := checkSystem(); err != nil {
		return res, err
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return res, fmt.Errorf("pgcluster: sweep %s: %w", root, err)
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), DirPrefix) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return res, errors.Join(append(errs, err)...)
		}
		dir := filepath.Join(root, e.Name())
		removed, recorded, err := sweepOne(dir)
		switch {
		case err != nil:
			errs = append(errs, err)
		case !recorded:
			res.Unrecorded = append(res.Unrecorded, dir)
		case removed:
			res.Removed = append(res.Removed, dir)
		}
	}
	return res, errors.Join(errs...)
}

// sweepOne removes the cluster in dir if it is abandoned.
func sweepOne(dir string) (removed, recorded bool, err error) {
	l, err := newLayout(dir)
	if err != nil && !errors.Is(err, ErrSocketPathTooLong) {
		return false, false, err
	}
	owner, recorded := readOwner(l)
	if !recorded {
		return false, false, nil
	}
	if _, err := os.Lstat(owner); !errors.Is(err, fs.ErrNotExist) {
		return false, true, nil // there, or we cannot tell: keep it
	}
	// A Start holds the lock while it prepares and starts the server;
	// holding it keeps one from beginning while the folder goes.
	unlock, busy, err := tryLock(l.lock)
	if err != nil || busy {
		return false, true, err
	}
	defer unlock()
	pid, _, err := runningPostmaster(l)
	if err != nil {
		return false, true, err
	}
	if pid != 0 || len(serverProcesses(realPath(l.data))) > 0 {
		return false, true, nil
	}
	if err := os.RemoveAll(l.dir); err != nil {
		return false, true, fmt.Errorf("pgcluster: remove abandoned cluster: %w", err)
	}
	return true, true, nil
}

// tryLock takes the flock of an existing lock file without waiting; busy
// is true when another process holds it, or when this user may not open
// it (another user's cluster, not ours to remove). A missing file needs
// no lock.
func tryLock(path string) (unlock func(), busy bool, err error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return func() {}, false, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("pgcluster: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("pgcluster: lock %s: %w", path, err)
	}
	return func() { _ = f.Close() }, false, nil
}

// RemoveDir stops the server of the cluster in dir, if one runs (as
// StopDir), and deletes the folder. A missing folder is not an error.
func RemoveDir(ctx context.Context, dir string) error {
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := StopDir(ctx, dir); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pgcluster: remove %s: %w", dir, err)
	}
	return nil
}

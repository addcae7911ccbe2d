package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRunning is returned by RunningURL when no ready server runs on the
// cluster.
var ErrNotRunning = errors.New("pgcluster: no ready server runs on the cluster")

// Initialized reports whether dir holds a complete cluster: one that Start
// would start without running initdb.
func Initialized(dir string) (bool, error) {
	l, err := newLayout(dir)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(l.marker)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("pgcluster: %w", err)
	}
}

// RunningURL returns the URL of database db (DefaultDatabase when empty)
// on the server that already runs on the cluster in dir, or ErrNotRunning.
// It starts, adopts and stops nothing: it is for a process that uses a
// cluster another process owns (herald migrate beside herald dev), which
// Start would take over and Stop would shut down.
func RunningURL(dir, db string) (string, error) {
	if err := checkSystem(); err != nil {
		return "", err
	}
	l, err := newLayout(dir)
	if err != nil {
		return "", err
	}
	pid, status, err := runningPostmaster(l)
	if err != nil {
		return "", err
	}
	if pid == 0 || status != statusReady {
		return "", ErrNotRunning
	}
	if db == "" {
		db = DefaultDatabase
	}
	return l.url(db), nil
}

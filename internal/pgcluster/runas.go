package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultRunAs is the OS user the server runs as when herald runs as root
// (PostgreSQL refuses to run as root) and Config.RunAs is empty.
// FallbackRunAs is used when DefaultRunAs does not exist.
const (
	DefaultRunAs  = "postgres"
	FallbackRunAs = "nobody"
)

// runAs is the unprivileged user the PostgreSQL programs run as. A nil
// *runAs means "as ourselves": herald is not root.
type runAs struct {
	name     string
	uid, gid uint32
}

// resolveRunAs picks the server user. It returns nil when not running as
// root, since only root can switch users.
func resolveRunAs(name string) (*runAs, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	candidates := []string{name}
	if name == "" {
		candidates = []string{DefaultRunAs, FallbackRunAs}
	}
	for _, n := range candidates {
		u, err := user.Lookup(n)
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) && name == "" {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("pgcluster: server user %q: %w", n, err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("pgcluster: server user %q: %w", n, err)
		}
		if uid == 0 {
			return nil, fmt.Errorf("pgcluster: server user %q is root, which PostgreSQL refuses to run as", n)
		}
		return &runAs{name: n, uid: uint32(uid), gid: uint32(gid)}, nil
	}
	return nil, fmt.Errorf("pgcluster: running as root needs an unprivileged user for PostgreSQL, and neither %q nor %q exists; set RunAs",
		DefaultRunAs, FallbackRunAs)
}

// credential is what a child process runs with; nil keeps our own.
func (r *runAs) credential() *syscall.Credential {
	if r == nil {
		return nil
	}
	// An empty Groups drops root's supplementary groups.
	return &syscall.Credential{Uid: r.uid, Gid: r.gid, Groups: []uint32{}}
}

func (r *runAs) String() string {
	if r == nil {
		return "current user"
	}
	return r.name
}

// chown gives path to the server user.
func (r *runAs) chown(path string) error {
	if r == nil {
		return nil
	}
	if err := os.Lchown(path, int(r.uid), int(r.gid)); err != nil {
		return fmt.Errorf("pgcluster: give %s to %s: %w", path, r.name, err)
	}
	return nil
}

// chownTree gives everything under root to the server user, for a data
// folder created by another user (RunAs changed): postgres refuses a data
// folder it does not own.
func (r *runAs) chownTree(root string) error {
	if r == nil {
		return nil
	}
	return filepath.WalkDir(root, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return r.chown(p)
	})
}

// owns reports whether path belongs to the server user (always true when
// not switching users).
func (r *runAs) owns(path string) bool {
	if r == nil {
		return true
	}
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Uid == r.uid
}

// checkReachable fails when a parent of dir cannot be traversed by the
// server user, which would make postgres fail with an obscure "permission
// denied" on its own data folder.
func (r *runAs) checkReachable(dir string) error {
	if r == nil {
		return nil
	}
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if ok && !r.canTraverse(st) {
			return fmt.Errorf("pgcluster: %s (mode %o) cannot be traversed by server user %s; keep the cluster in a folder every user can reach, such as under %s",
				p, fi.Mode().Perm(), r.name, SharedTempRoot)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

func (r *runAs) canTraverse(st *syscall.Stat_t) bool {
	const ownerX, groupX, otherX = 0o100, 0o010, 0o001
	switch {
	case st.Uid == r.uid:
		return st.Mode&ownerX != 0
	case st.Gid == r.gid:
		return st.Mode&groupX != 0
	default:
		return st.Mode&otherX != 0
	}
}

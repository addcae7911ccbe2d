package pgcluster

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// MaxSocketPath is the longest Unix socket path, in bytes, that the kernel
// accepts: sun_path holds 108 bytes including the terminating NUL.
const MaxSocketPath = 107

// Port is the port the server is configured with. It opens no TCP listener
// (listen_addresses is empty); the port only names the socket file
// .s.PGSQL.5432, so clusters in different folders never collide.
const Port = 5432

// SharedTempRoot holds clusters whose natural place is unusable: a path too
// long for a socket, or a folder that the unprivileged server user cannot
// reach when herald runs as root. Unlike /tmp it survives reboots, and every
// user can traverse it.
const SharedTempRoot = "/var/tmp"

// DirPrefix starts the name of a cluster folder under SharedTempRoot.
const DirPrefix = "herald-pg-"

// dirHashLen is how many hex digits of sha256(data folder) name a shared
// cluster folder: enough to never collide on one machine, short enough for
// the socket path.
const dirHashLen = 12

// ErrSocketPathTooLong is returned when a cluster folder is so deep that the
// server's Unix socket path would exceed MaxSocketPath.
var ErrSocketPathTooLong = errors.New("pgcluster: unix socket path too long")

// Names inside a cluster folder.
const (
	dataDirName    = "data"
	socketDirName  = "sock"
	logFileName    = "server.log"
	lockFileName   = ".lock"
	initMarkerName = "initialized"
	ownerFileName  = "owner"
)

// layout is where each part of a cluster lives.
type layout struct {
	dir    string // the cluster folder
	data   string // PGDATA
	socket string // unix_socket_directories
	log    string // server log, written by pg_ctl's shell
	lock   string // flock serializing Start on one folder
	marker string // exists once initdb and our configuration completed
	owner  string // the folder the cluster belongs to (Config.Owner)
}

func newLayout(dir string) (layout, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return layout{}, fmt.Errorf("pgcluster: cluster folder: %w", err)
	}
	l := layout{
		dir:    abs,
		data:   filepath.Join(abs, dataDirName),
		socket: filepath.Join(abs, socketDirName),
		log:    filepath.Join(abs, logFileName),
		lock:   filepath.Join(abs, lockFileName),
		marker: filepath.Join(abs, initMarkerName),
		owner:  filepath.Join(abs, ownerFileName),
	}
	return l, l.check()
}

func (l layout) socketPath() string {
	return filepath.Join(l.socket, ".s.PGSQL."+strconv.Itoa(Port))
}

func (l layout) pidFile() string { return filepath.Join(l.data, "postmaster.pid") }

func (l layout) socketLockFile() string { return l.socketPath() + ".lock" }

// shellUnsafe are the characters that keep their meaning inside the double
// quotes pg_ctl wraps paths in when it starts the server through /bin/sh.
const shellUnsafe = "\"$`\\\n"

func (l layout) check() error {
	if n := len(l.socketPath()); n > MaxSocketPath {
		return fmt.Errorf("%w: %s is %d bytes, the limit is %d; use a shorter cluster folder",
			ErrSocketPathTooLong, l.socketPath(), n, MaxSocketPath)
	}
	if strings.ContainsAny(l.dir, shellUnsafe) {
		return fmt.Errorf("pgcluster: cluster folder %q contains one of %q, which pg_ctl cannot pass through its shell",
			l.dir, shellUnsafe)
	}
	return nil
}

// DirFor returns the cluster folder herald dev uses for the data folder
// dataDir. As root it is SharedTempRoot/herald-pg-<hash of dataDir>, since
// the server runs as an unprivileged user who usually cannot reach root's
// files; otherwise it is <dataDir>/postgres, unless that folder would not
// work (socket path too long) and the shared form is used instead.
func DirFor(dataDir string) (string, error) {
	return dirFor(dataDir, os.Geteuid() == 0)
}

func dirFor(dataDir string, root bool) (string, error) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return "", fmt.Errorf("pgcluster: data folder: %w", err)
	}
	if !root {
		dir := filepath.Join(abs, "postgres")
		if _, err := newLayout(dir); err == nil {
			return dir, nil
		}
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(SharedTempRoot, DirPrefix+hex.EncodeToString(sum[:])[:dirHashLen]), nil
}

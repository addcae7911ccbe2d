package platform

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// bootstrapTokenBytes is the entropy of a generated bootstrap admin token.
const bootstrapTokenBytes = 32

func newBootstrapToken() string {
	b := make([]byte, bootstrapTokenBytes)
	_, _ = rand.Read(b)
	return "hat_" + base64.RawURLEncoding.EncodeToString(b)
}

// secretFromFile returns given when set. Otherwise, in dev mode, it reads
// the secret kept in the data folder, generating and saving one (mode
// 0600) on first start so that it stays the same across restarts. Other
// modes get "" back: they must be configured explicitly.
func (p *Platform) secretFromFile(given, name string, generate func() string) (string, error) {
	if given != "" || p.cfg.Mode != ModeDev {
		return given, nil
	}
	path := filepath.Join(p.cfg.DataDir, name)
	b, err := os.ReadFile(path)
	if err == nil {
		if s := strings.TrimSpace(string(b)); s != "" {
			return s, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	s := generate()
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", writableHint(fmt.Errorf("write %s: %w", path, err))
	}
	return s, nil
}

// writableHint adds the way out to an error of writing in the data
// folder: another folder, one this user can write.
func writableHint(err error) error {
	return fmt.Errorf("%w; pick a writable folder with --data-dir", err)
}

// writeURLFile records the URL dev mode serves on in the data folder, for
// `herald admin` to find it. An unspecified listen address (0.0.0.0, ::)
// is written as loopback, which a client on this machine can dial.
func (p *Platform) writeURLFile() error {
	host, port, err := net.SplitHostPort(p.addr)
	if err != nil {
		return fmt.Errorf("url file: %w", err)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	u := p.scheme() + "://" + net.JoinHostPort(host, port)
	path := filepath.Join(p.cfg.DataDir, URLFile)
	if err := os.WriteFile(path, []byte(u+"\n"), 0o600); err != nil {
		return writableHint(fmt.Errorf("write %s: %w", path, err))
	}
	return nil
}

// lockFile keeps two dev processes off one data folder: they would share
// (and stop) one PostgreSQL cluster and one NATS store. The holder writes
// its pid and command into it, for the refusal to name.
const lockFile = "herald.lock"

// devCommand names herald dev in the lock file.
const devCommand = "herald dev"

// LockHolder is the process that holds a data folder's lock, as far as
// its lock file tells.
type LockHolder struct {
	PID     int    // 0 when the file names none
	Command string // such as "herald dev"; "" from a herald that wrote only its pid
}

// String names the holder for messages: "herald dev (pid 42)".
func (h LockHolder) String() string {
	name := h.Command
	if name == "" {
		name = "another herald process"
	}
	if h.PID > 0 {
		return fmt.Sprintf("%s (pid %d)", name, h.PID)
	}
	return name
}

// dataDirInUseError is a data folder whose lock another process holds.
type dataDirInUseError struct {
	dataDir string
	holder  LockHolder
}

func (e *dataDirInUseError) Error() string {
	return fmt.Sprintf("data folder %s is in use by %s; stop it, or pick another folder with --data-dir", e.dataDir, e.holder)
}

// lockDataDir takes the data folder lock for herald dev.
func (p *Platform) lockDataDir() error { return p.lockDataDirAs(devCommand, true) }

// lockDataDirAs takes an exclusive, non-blocking flock on the data
// folder's lock file for command, creating the file if create, and
// returns a *dataDirInUseError if another process holds it. The kernel
// releases the lock if the process dies; shutdown releases it.
func (p *Platform) lockDataDirAs(command string, create bool) error {
	path := filepath.Join(p.cfg.DataDir, lockFile)
	flags := os.O_RDWR
	if create {
		flags |= os.O_CREATE
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if err != nil {
		err = fmt.Errorf("lock data folder: %w", err)
		if create {
			err = writableHint(err)
		}
		return err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return &dataDirInUseError{dataDir: p.cfg.DataDir, holder: lockHolder(path)}
		}
		return fmt.Errorf("lock data folder: %w", err)
	}
	// The pid and command are a courtesy for the messages above: the lock
	// works without them.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+" "+command+"\n"), 0)
	}
	p.addCloser("data folder lock", func(context.Context) error { return f.Close() })
	return nil
}

// lockHolder reads who holds the lock file at path: "<pid> <command>", or
// only the pid from an older herald.
func lockHolder(path string) LockHolder {
	b, _ := os.ReadFile(path)
	pidText, command, _ := strings.Cut(strings.TrimSpace(string(b)), " ")
	var h LockHolder
	if pid, err := strconv.Atoi(pidText); err == nil && pid > 0 {
		h.PID = pid
		h.Command = strings.TrimSpace(command)
	}
	return h
}

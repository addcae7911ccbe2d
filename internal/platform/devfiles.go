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
// its pid into it, for the refusal to name.
const lockFile = "herald.lock"

// lockDataDir takes an exclusive, non-blocking flock on the data folder's
// lock file. The kernel releases it if the process dies.
func (p *Platform) lockDataDir() error {
	path := filepath.Join(p.cfg.DataDir, lockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return writableHint(fmt.Errorf("lock data folder: %w", err))
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("data folder %s is in use by %s; stop it, or pick another folder with --data-dir",
				p.cfg.DataDir, lockHolder(path))
		}
		return fmt.Errorf("lock data folder: %w", err)
	}
	// The pid is a courtesy for the message above: the lock works without it.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	p.addCloser("data folder lock", func(context.Context) error { return f.Close() })
	return nil
}

// lockHolder names the process that holds the lock file at path, as well
// as its content tells.
func lockHolder(path string) string {
	b, _ := os.ReadFile(path)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
		return fmt.Sprintf("another herald process (pid %d)", pid)
	}
	return "another herald process"
}

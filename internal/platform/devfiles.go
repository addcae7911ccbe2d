package platform

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}

// lockFile keeps two dev processes off one data folder: they would share
// (and stop) one PostgreSQL cluster and one NATS store.
const lockFile = "herald.lock"

// lockDataDir takes an exclusive, non-blocking flock on the data folder's
// lock file. The kernel releases it if the process dies.
func (p *Platform) lockDataDir() error {
	path := filepath.Join(p.cfg.DataDir, lockFile)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock data folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("data folder %s is in use by another herald process", p.cfg.DataDir)
		}
		return fmt.Errorf("lock data folder: %w", err)
	}
	p.addCloser("data folder lock", func(context.Context) error { return f.Close() })
	return nil
}

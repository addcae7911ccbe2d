package heraldtest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the herald process, as the JavaScript harness
// (internal/e2e/js/harness/herald.mjs) has them.
const (
	// BuildTimeout bounds `go build` (a cold build on a 2-core machine).
	BuildTimeout = 5 * time.Minute
	// StartTimeout bounds the wait for the listening line (initdb included).
	StartTimeout = 90 * time.Second
	// StopTimeout bounds the exit after SIGINT (it stops PostgreSQL too),
	// after which the process is killed.
	StopTimeout = 60 * time.Second
)

// The demo app `herald dev` seeds.
const (
	DemoAppID  = "app-id"
	DemoKey    = "app-key"
	DemoSecret = "app-secret"
)

// adminTokenFile is where herald dev keeps its bootstrap admin token.
const adminTokenFile = "admin.token"

// Where herald dev puts the managed PostgreSQL cluster of a data folder
// when it cannot live inside it (always as root): pgcluster.DirFor.
const (
	sharedClusterRoot   = "/var/tmp"
	sharedClusterPrefix = "herald-pg-"
	sharedClusterHash   = 12
)

// logTail is how much of herald's stderr a failed test prints.
const logTail = 64 << 10

var listeningLine = regexp.MustCompile(`^herald: listening on (http://\S+)$`)

// Server is a running `herald dev`.
type Server struct {
	// URL is the base URL it printed, http://127.0.0.1:PORT.
	URL string
	// DataDir is its data folder.
	DataDir string
	// AdminToken is the bootstrap admin token from the data folder.
	AdminToken string

	bin   string
	args  []string
	mu    sync.Mutex
	proc  *process
	stder *tailBuffer
}

type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// Start runs `herald dev --data-dir <temp> --addr 127.0.0.1:0` plus
// extraArgs and waits for its listening line. The test's cleanup stops it
// and removes its data folder and PostgreSQL cluster.
func Start(tb testing.TB, extraArgs ...string) *Server {
	tb.Helper()
	bin := Binary(tb)
	s := &Server{bin: bin, args: extraArgs, DataDir: filepath.Join(tb.TempDir(), "data"), stder: &tailBuffer{}}
	// Registered after TempDir's, so it runs first: herald stops before its
	// folder goes.
	tb.Cleanup(func() {
		s.Stop()
		removeSharedCluster(s.DataDir)
		if tb.Failed() {
			tb.Logf("herald stderr (last %d bytes):\n%s", logTail, s.stder.String())
		}
	})
	if err := s.boot(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// shared are the servers Shared started, by their arguments; Main stops
// them.
var shared struct {
	mu      sync.Mutex
	servers map[string]*Server
	dirs    []string
}

// Shared returns a server with extraArgs that every test of the package
// shares (started by the first that asks), so that tests that need no
// server of their own do not pay for a start each. Main stops it. Tests
// using it create their own apps (NewApp) and never Restart it.
func Shared(tb testing.TB, extraArgs ...string) *Server {
	tb.Helper()
	bin := Binary(tb)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	key := strings.Join(extraArgs, "\x00")
	if s := shared.servers[key]; s != nil {
		return s
	}
	dir, err := os.MkdirTemp("", "heraldtest-")
	if err != nil {
		tb.Fatalf("heraldtest: %v", err)
	}
	shared.dirs = append(shared.dirs, dir)
	s := &Server{bin: bin, args: extraArgs, DataDir: filepath.Join(dir, "data"), stder: &tailBuffer{}}
	if shared.servers == nil {
		shared.servers = map[string]*Server{}
	}
	// Kept even when the start fails, so that Main stops what started.
	shared.servers[key] = s
	if err := s.boot(); err != nil {
		tb.Fatal(err)
	}
	return s
}

// stopShared stops the shared servers and removes their folders.
func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	for _, s := range shared.servers {
		s.Stop()
		removeSharedCluster(s.DataDir)
	}
	for _, d := range shared.dirs {
		if err := os.RemoveAll(d); err != nil {
			fmt.Fprintf(os.Stderr, "heraldtest: remove %s: %v\n", d, err)
		}
	}
	shared.servers, shared.dirs = nil, nil
}

// boot starts herald on a free port and reads its admin token.
func (s *Server) boot() error {
	if err := s.start("127.0.0.1:0"); err != nil {
		return err
	}
	token, err := os.ReadFile(filepath.Join(s.DataDir, adminTokenFile))
	if err != nil {
		return fmt.Errorf("heraldtest: admin token: %w", err)
	}
	s.AdminToken = strings.TrimSpace(string(token))
	return nil
}

func (s *Server) start(addr string) error {
	args := append([]string{"dev", "--data-dir", s.DataDir, "--addr", addr}, s.args...)
	cmd := exec.Command(s.bin, args...)
	cmd.Stderr = s.stder
	cmd.SysProcAttr = sysProcAttr()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("heraldtest: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("heraldtest: start herald: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case urls <- m[1]:
				default:
				}
			}
		}
		// Keep draining so that herald never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, stdout)
		p.err = cmd.Wait()
		close(p.exited)
	}()
	timer := time.NewTimer(StartTimeout)
	defer timer.Stop()
	select {
	case u := <-urls:
		// Set once, on the first start: a restart serves the same
		// address, and other goroutines read URL meanwhile.
		if s.URL == "" {
			s.URL = u
		} else if u != s.URL {
			s.Stop()
			return fmt.Errorf("heraldtest: restarted on %s, not %s", u, s.URL)
		}
		return nil
	case <-p.exited:
		return fmt.Errorf("heraldtest: herald exited before serving (%v):\n%s", p.err, s.stder.String())
	case <-timer.C:
		s.Stop()
		return fmt.Errorf("heraldtest: herald printed no listening line within %s:\n%s", StartTimeout, s.stder.String())
	}
}

// Stop sends SIGINT and waits for herald to exit (SIGKILL after
// StopTimeout). Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(StopTimeout):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Restart stops herald and starts it again on the same data folder and
// the same address, so that clients reconnect to the URL they know.
func (s *Server) Restart() error {
	s.Stop()
	u, err := url.Parse(s.URL)
	if err != nil {
		return fmt.Errorf("heraldtest: %w", err)
	}
	return s.start(u.Host)
}

// Stderr is the end of what herald wrote to stderr so far.
func (s *Server) Stderr() string { return s.stder.String() }

// removeSharedCluster removes the PostgreSQL cluster herald dev made for
// dataDir outside of it, which nothing else would remove (.ci/no-litter).
func removeSharedCluster(dataDir string) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return
	}
	sum := sha256.Sum256([]byte(abs))
	dir := filepath.Join(sharedClusterRoot, sharedClusterPrefix+hex.EncodeToString(sum[:])[:sharedClusterHash])
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(os.Stderr, "heraldtest: remove %s: %v\n", dir, err)
	}
}

// tailBuffer keeps the last logTail bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - logTail; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

package testenv

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testinfra"
)

// ProcTimeout bounds each wait on a herald binary: its build, its start
// and its exit.
const ProcTimeout = 2 * time.Minute

var listeningLine = regexp.MustCompile(`^herald: listening on (http\S+)$`)

// BuildHerald compiles cmd/herald into a folder of the test's.
func BuildHerald(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "herald")
	ctx, cancel := context.WithTimeout(context.Background(), ProcTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/heraldhq/herald/cmd/herald")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Proc is a herald binary a test started: a separate OS process, so that
// the test can SIGKILL it.
type Proc struct {
	// Name names the process in failures and its log file.
	Name string
	// Token is the admin token Admin sends (the process's --admin-token).
	Token string
	// Started is how long the process took to print its listening line.
	Started time.Duration

	cmd    *exec.Cmd
	url    string
	stderr *testinfra.LogBuffer
	exited chan error
}

// StartProc runs bin with args and waits for its listening line. Its
// stderr goes, as JSON debug logs, to the log file testinfra.Main scans
// for secrets. A process still running at the test's end gets SIGINT
// (then SIGKILL after ProcTimeout).
func StartProc(tb testing.TB, name, bin string, args ...string) *Proc {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HERALD_LOG_LEVEL=debug", "HERALD_LOG_FORMAT=json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proc{Name: name, cmd: cmd, stderr: &testinfra.LogBuffer{}, exited: make(chan error, 1)}
	cmd.Stderr = io.MultiWriter(p.stderr, testinfra.LogWriter("herald-"+name))
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listeningLine.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		p.exited <- cmd.Wait()
	}()
	tb.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGINT)
			select {
			case <-p.exited:
			case <-time.After(ProcTimeout):
				_ = cmd.Process.Kill()
			}
		}
	})
	select {
	case p.url = <-urls:
	case err := <-p.exited:
		tb.Fatalf("herald %s exited before serving: %v\n%s", name, err, p.Stderr())
	case <-time.After(ProcTimeout):
		tb.Fatalf("herald %s did not print its listening line\n%s", name, p.Stderr())
	}
	p.Started = time.Since(start)
	return p
}

// URL is the base URL the process printed.
func (p *Proc) URL() string { return p.url }

// PID is the process's id, for reading its /proc entries.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Stderr is what the process wrote to stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Admin sends an admin API request with p.Token (HeraldEnv.Admin).
func (p *Proc) Admin(tb testing.TB, method, path string, body, out any) int {
	tb.Helper()
	return adminRequest(tb, p.url, p.Token, method, path, body, out)
}

// Stop sends sig and waits for the process to exit, returning how it
// exited (an *exec.ExitError after SIGKILL).
func (p *Proc) Stop(tb testing.TB, sig syscall.Signal) error {
	tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatal(err)
	}
	select {
	case err := <-p.exited:
		return err
	case <-time.After(ProcTimeout):
		tb.Fatalf("herald %s did not exit after %v\n%s", p.Name, sig, p.Stderr())
		return nil
	}
}

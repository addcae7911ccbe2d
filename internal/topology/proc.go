package topology

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// listeningLine is what every herald server prints once it serves.
var listeningLine = regexp.MustCompile(`^herald: listening on (http\S+)$`)

// ErrExited is returned when a process ends before it is ready.
var ErrExited = errors.New("process exited")

// proc is one OS process of the topology: started from a fixed command
// line, so that it can be started again after a stop or a kill.
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	log  io.Writer
	// listening is set for herald servers: Start waits for their
	// listening line.
	listening bool

	// tail keeps the end of the output, for errors.
	tail tailBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// start runs the command; for a herald server it waits, within timeout,
// for the listening line.
func (p *proc) start(ctx context.Context, timeout time.Duration) error {
	p.mu.Lock()
	if p.cmd != nil {
		p.mu.Unlock()
		return fmt.Errorf("%s: already running", p.name)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	out := io.MultiWriter(p.log, &p.tail)
	cmd.Stderr = out
	// Its own process group: Ctrl-C in a terminal reaches the harness,
	// which stops each process in order, not every process at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		p.mu.Unlock()
		return err
	}
	if err := cmd.Start(); err != nil {
		p.mu.Unlock()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	exited := make(chan struct{})
	p.cmd, p.exited = cmd, exited
	p.mu.Unlock()

	listening := make(chan struct{}, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			_, _ = fmt.Fprintln(out, sc.Text())
			if listeningLine.MatchString(sc.Text()) {
				listening <- struct{}{}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		err := cmd.Wait()
		p.mu.Lock()
		p.err, p.cmd = err, nil
		p.mu.Unlock()
		close(exited)
	}()
	if !p.listening {
		return nil
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-listening:
		return nil
	case <-exited:
		return fmt.Errorf("%s: %w before serving: %v\n%s", p.name, ErrExited, p.err, p.tail.String())
	case <-t.C:
		return fmt.Errorf("%s: no listening line after %s", p.name, timeout)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pid is the process id, 0 when not running.
func (p *proc) pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// running reports whether the process runs.
func (p *proc) running() bool { return p.pid() != 0 }

// signal sends sig and waits, within timeout, for the process to exit;
// past the timeout it is killed. A process that is not running is left
// alone.
func (p *proc) signal(sig syscall.Signal, timeout time.Duration) error {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-exited:
		return nil
	case <-t.C:
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s did not exit within %s of %v; killed", p.name, timeout, sig)
	}
}

// tailSize is how much of a process's output its errors show.
const tailSize = 4 << 10

// tailBuffer keeps the last tailSize bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - tailSize; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// Command herald runs the Herald realtime platform. It only wires: flags
// and environment become a platform.Config, and internal/platform runs it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/heraldhq/herald/cmd/herald/internal/config"
	"github.com/heraldhq/herald/internal/platform"
)

const usage = `herald: a self-hostable realtime messaging platform

Usage:
  herald dev           everything in one process (embedded NATS, managed Postgres, demo app)
  herald gateway       an edge gateway (WebSocket clients) on an external NATS
  herald controlplane  the control plane (HTTP APIs, app config sync) on external NATS and Postgres
  herald migrate       up | down | status: manage the database schema
  herald admin         a command-line client of the admin API
  herald bench         a load test of a running Herald: subscribers, publish rates, latency
  herald healthcheck   exit 0 when the local server's /readyz answers 200 (container probes)
  herald version       the version, commit and Go version of this binary (also --version)
  herald help          this text

Every flag --foo-bar can also be set with the environment variable HERALD_FOO_BAR;
a flag given on the command line wins. Run "herald <command> -h" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one herald command and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "dev":
		return runServer(ctx, platform.ModeDev, args[1:], getenv, stdout, stderr)
	case "controlplane":
		return runServer(ctx, platform.ModeControlPlane, args[1:], getenv, stdout, stderr)
	case "gateway":
		return runServer(ctx, platform.ModeGateway, args[1:], getenv, stdout, stderr)
	case "migrate":
		return runMigrate(ctx, args[1:], getenv, stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], getenv, stdout, stderr)
	case "bench":
		return runBench(ctx, args[1:], getenv, stdout, stderr)
	case "healthcheck":
		return runHealthcheck(ctx, args[1:], getenv, stdout, stderr)
	case "version", "--version", "-version":
		return runVersion(stdout)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "herald: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func runServer(ctx context.Context, mode platform.Mode, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	name := map[platform.Mode]string{platform.ModeDev: "dev", platform.ModeControlPlane: "controlplane", platform.ModeGateway: "gateway"}[mode]
	fs := flag.NewFlagSet("herald "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := platform.Config{Mode: mode}
	logOpts := bindServerFlags(fs, &cfg, mode)
	if err := config.Parse(fs, args, getenv); err != nil {
		return usageError(err)
	}
	// The log and the stopping line below share stderr.
	stderr = &lockedWriter{w: stderr}
	logger, err := logOpts.logger(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "herald %s: %v\n", name, err)
		return 2
	}
	cfg.Logger = logger
	cfg.Stdout = stdout
	p, err := platform.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "herald %s: %v\n", name, err)
		return 2
	}
	defer announceStop(ctx, stderr, "herald "+name)()
	if err := p.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "herald %s: %v\n", name, err)
		return 1
	}
	return 0
}

// announceStop prints "<prefix>: stopping…" as soon as ctx is done (the
// first Ctrl-C), since a graceful drain can take seconds and silence reads
// as a hang. Call the returned function before returning: it ends the
// watch, and nothing is printed after it returns.
func announceStop(ctx context.Context, w io.Writer, prefix string) (end func()) {
	finished, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case <-ctx.Done():
			fmt.Fprintf(w, "%s: stopping…\n", prefix)
		case <-finished:
		}
	}()
	return func() {
		close(finished)
		<-ended
	}
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func usageError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

// logOptions are the logging flags every server command has.
type logOptions struct {
	level  string
	format string
}

func (o logOptions) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(o.format) {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format must be text or json, not %q", o.format)
	}
}

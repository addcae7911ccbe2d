// Package natsembed runs a NATS server with JetStream inside the Herald
// process, for `herald dev` and for tests. Production deployments connect to
// a NATS cluster instead.
package natsembed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Port values with a special meaning in Config.Port.
const (
	// PortNone starts no TCP listener: only in-process connections reach
	// the server. It is dev mode's default because a listener would expose
	// every subject to anyone who can reach the port.
	PortNone = 0
	// PortRandom listens on a random free port of Host, for tests that
	// start child processes against the server.
	PortRandom = -1
)

// Defaults for zero Config fields.
const (
	DefaultServerName   = "herald"
	DefaultHost         = "127.0.0.1"
	DefaultReadyTimeout = 10 * time.Second
)

// ErrNotReady is returned by Start when the server does not accept
// connections within the ready timeout.
var ErrNotReady = errors.New("nats server not ready")

// Config configures an embedded server. Zero fields take the defaults
// above; StoreDir is required.
type Config struct {
	// StoreDir is where JetStream keeps its file storage. Restarting a
	// server on the same directory recovers its streams.
	StoreDir string
	// ServerName names the server (and its JetStream node).
	ServerName string
	// Host is the interface the TCP listener binds to, when there is one.
	Host string
	// Port is PortNone (no listener), PortRandom or a fixed TCP port.
	Port int
	// Logger receives the server's logs: notices and debug lines at Debug,
	// warnings at Warn, errors at Error. Nil discards them.
	Logger *slog.Logger
	// MaxStore caps JetStream file storage in bytes; 0 lets the server
	// choose from the free disk space.
	MaxStore int64
	// ReadyTimeout bounds how long Start waits for the server to accept
	// connections (also bounded by the context's deadline).
	ReadyTimeout time.Duration
}

func (c Config) withDefaults() Config {
	if c.ServerName == "" {
		c.ServerName = DefaultServerName
	}
	if c.Host == "" {
		c.Host = DefaultHost
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	return c
}

// Server is a running embedded NATS server.
type Server struct {
	cfg     Config
	ns      *server.Server
	started chan struct{} // closed when ns.Start returns
}

// Start starts a JetStream-enabled server and waits until it accepts
// connections. On failure nothing is left running.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if cfg.StoreDir == "" {
		return nil, errors.New("start nats: StoreDir is required")
	}
	if cfg.Port < PortRandom {
		return nil, fmt.Errorf("start nats: invalid port %d", cfg.Port)
	}
	opts := &server.Options{
		ServerName:        cfg.ServerName,
		JetStream:         true,
		StoreDir:          cfg.StoreDir,
		JetStreamMaxStore: cfg.MaxStore,
		// The embedding process owns signal handling.
		NoSigs: true,
	}
	if cfg.Port == PortNone {
		opts.DontListen = true
	} else {
		opts.Host = cfg.Host
		opts.Port = cfg.Port
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	ns.SetLoggerV2(logAdapter{cfg.Logger}, cfg.Logger.Enabled(ctx, slog.LevelDebug), false, false)

	s := &Server{cfg: cfg, ns: ns, started: make(chan struct{})}
	// Start recovers JetStream state before it returns, which can take a
	// while on a large store; readiness below is what we wait for.
	go func() {
		defer close(s.started)
		ns.Start()
	}()

	wait := cfg.ReadyTimeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
		wait = time.Until(dl)
	}
	if !ns.ReadyForConnections(wait) || ctx.Err() != nil {
		// Best effort: the caller's context may be done already.
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ReadyTimeout)
		defer cancel()
		_ = s.Shutdown(shutdownCtx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("start nats: %w", err)
		}
		return nil, fmt.Errorf("start nats: %w after %s", ErrNotReady, wait)
	}
	if cfg.Port != PortNone {
		// Record the port actually bound, so that Config can restart the
		// server on the same address.
		if addr, ok := ns.Addr().(*net.TCPAddr); ok {
			s.cfg.Port = addr.Port
		}
	}
	return s, nil
}

// Config returns the server's configuration, with Port set to the port
// actually bound when the server listens. Passing it to Start again (after
// Shutdown) restarts the server on the same store and address.
func (s *Server) Config() Config { return s.cfg }

// Listening reports whether the server has a TCP listener.
func (s *Server) Listening() bool { return s.cfg.Port != PortNone }

// ClientURL is the nats:// URL of the TCP listener, or "" when the server
// accepts in-process connections only.
func (s *Server) ClientURL() string {
	if !s.Listening() {
		return ""
	}
	return "nats://" + net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
}

// Connect opens a client connection named name. When the server listens,
// the connection goes through ClientURL so that it can reconnect to a
// restarted server; otherwise it is an in-process pipe, which dies with
// the server. opts come last and can override anything.
func (s *Server) Connect(name string, opts ...nats.Option) (*nats.Conn, error) {
	all := []nats.Option{nats.Name(name)}
	url := s.ClientURL()
	if url == "" {
		all = append(all, nats.InProcessServer(s.ns))
	}
	all = append(all, opts...)
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded nats: %w", err)
	}
	return nc, nil
}

// NATSServer exposes the underlying server for the few callers (tests,
// diagnostics) that need more than this package offers.
func (s *Server) NATSServer() *server.Server { return s.ns }

// Shutdown stops the server gracefully (closing client connections and
// flushing JetStream state) and waits until it is down or ctx is done. It
// is safe to call more than once. If ctx ends first the shutdown carries on
// in the background and Shutdown returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		<-s.started
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shut down nats: %w", ctx.Err())
	}
}

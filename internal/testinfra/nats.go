package testinfra

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/natsembed"
)

// Timeouts for the NATS fixtures; generous because the test machine is
// small and shared.
const (
	natsShutdownTimeout = 15 * time.Second
	// NATSReconnectWait is how long a test connection waits between
	// reconnect attempts, short so that restart tests run fast.
	NATSReconnectWait = 20 * time.Millisecond
)

// NATS starts an embedded JetStream server for one test. It listens on a
// random loopback port so that child processes can connect too, keeps its
// store in a temporary directory and shuts down at cleanup. Its warnings
// and errors go to the test log.
func NATS(tb testing.TB) *natsembed.Server {
	tb.Helper()
	return startNATS(tb, natsembed.Config{
		StoreDir:   tb.TempDir(),
		ServerName: "test",
		Port:       natsembed.PortRandom,
	})
}

// RestartNATS shuts s down and starts a new server on the same store
// directory and port, as a crash-free restart would. Connections made with
// NATSConn reconnect to it on their own.
func RestartNATS(tb testing.TB, s *natsembed.Server) *natsembed.Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), natsShutdownTimeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		tb.Fatalf("restart nats: %v", err)
	}
	return startNATS(tb, s.Config())
}

func startNATS(tb testing.TB, cfg natsembed.Config) *natsembed.Server {
	tb.Helper()
	if cfg.Logger == nil {
		cfg.Logger = TBLogger(tb, slog.LevelWarn)
	}
	s, err := natsembed.Start(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("start nats: %v", err)
	}
	tb.Cleanup(func() {
		// tb.Context is already canceled during cleanup.
		ctx, cancel := context.WithTimeout(context.Background(), natsShutdownTimeout)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			tb.Errorf("stop nats: %v", err)
		}
	})
	return s
}

// NATSConn connects to s (over TCP when s listens, so that the connection
// survives RestartNATS) and closes the connection at cleanup. It retries
// reconnects forever, quickly; opts override that.
func NATSConn(tb testing.TB, s *natsembed.Server, opts ...nats.Option) *nats.Conn {
	tb.Helper()
	nc, err := s.Connect(tb.Name(), reconnectForever(opts)...)
	return closedAtCleanup(tb, nc, err)
}

// reconnectForever puts quick, endless reconnects before opts, which may
// override them.
func reconnectForever(opts []nats.Option) []nats.Option {
	return append([]nats.Option{
		nats.MaxReconnects(-1),
		nats.ReconnectWait(NATSReconnectWait),
		nats.ReconnectJitter(0, 0),
	}, opts...)
}

// closedAtCleanup fails the test on err and otherwise closes nc at cleanup.
func closedAtCleanup(tb testing.TB, nc *nats.Conn, err error) *nats.Conn {
	tb.Helper()
	if err != nil {
		tb.Fatalf("connect nats: %v", err)
	}
	tb.Cleanup(nc.Close)
	return nc
}

// JetStream returns a JetStream context on nc.
func JetStream(tb testing.TB, nc *nats.Conn) jetstream.JetStream {
	tb.Helper()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream: %v", err)
	}
	return js
}

// TBLogger writes level and above to the test log, and nothing once the
// test has finished: servers and watchers may still log while they stop,
// and logging after a test completes panics.
func TBLogger(tb testing.TB, level slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(newTBWriter(tb), &slog.HandlerOptions{Level: level}))
}

// tbWriter writes to the test log until the test ends.
type tbWriter struct {
	tb   testing.TB
	done atomic.Bool
}

func newTBWriter(tb testing.TB) *tbWriter {
	w := &tbWriter{tb: tb}
	tb.Cleanup(func() { w.done.Store(true) })
	return w
}

func (w *tbWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.tb.Log(string(p))
	}
	return len(p), nil
}

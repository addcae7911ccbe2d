package natsembed_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

const testTimeout = 20 * time.Second

func start(tb testing.TB, cfg natsembed.Config) *natsembed.Server {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testTimeout)
	defer cancel()
	s, err := natsembed.Start(ctx, cfg)
	if err != nil {
		tb.Fatalf("Start: %v", err)
	}
	tb.Cleanup(func() { shutdown(tb, s) })
	return s
}

func shutdown(tb testing.TB, s *natsembed.Server) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		tb.Errorf("Shutdown: %v", err)
	}
}

func connect(tb testing.TB, s *natsembed.Server) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := s.Connect(tb.Name())
	if err != nil {
		tb.Fatalf("Connect: %v", err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatalf("jetstream.New: %v", err)
	}
	return nc, js
}

// publishAndCount creates stream S (if needed), publishes one message and
// returns the stream's message count.
func publishAndCount(tb testing.TB, js jetstream.JetStream, publish bool) uint64 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), testTimeout)
	defer cancel()
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage,
	})
	if err != nil {
		tb.Fatalf("create stream: %v", err)
	}
	if publish {
		if _, err := js.Publish(ctx, "s.x", []byte("hello")); err != nil {
			tb.Fatalf("publish: %v", err)
		}
	}
	info, err := st.Info(ctx)
	if err != nil {
		tb.Fatalf("stream info: %v", err)
	}
	return info.State.Msgs
}

func TestInProcessOnly(t *testing.T) {
	var logs testinfra.LogBuffer
	s := start(t, natsembed.Config{
		StoreDir: t.TempDir(),
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if !strings.Contains(logs.String(), "Starting nats-server") {
		t.Errorf("server logs did not reach the slog logger; got %q", logs.String())
	}
	if s.Listening() || s.ClientURL() != "" {
		t.Fatalf("Port 0 must not listen: Listening=%v ClientURL=%q", s.Listening(), s.ClientURL())
	}
	nc, js := connect(t, s)
	if got := publishAndCount(t, js, true); got != 1 {
		t.Fatalf("stream has %d messages, want 1", got)
	}
	// Core pub/sub works too.
	sub, err := nc.SubscribeSync("core.x")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("core.x", []byte("hi")); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.NextMsg(testTimeout); err != nil {
		t.Fatalf("core message: %v", err)
	}
}

func TestRandomPortTCP(t *testing.T) {
	s := start(t, natsembed.Config{StoreDir: t.TempDir(), Port: natsembed.PortRandom})
	if !s.Listening() || s.Config().Port <= 0 {
		t.Fatalf("want a bound port, got Config().Port=%d", s.Config().Port)
	}
	// A plain TCP client (not Connect) proves the listener is real.
	nc, err := nats.Connect(s.ClientURL(), nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("connect %s: %v", s.ClientURL(), err)
	}
	defer nc.Close()
	if nc.ConnectedAddr() == "" {
		t.Fatal("not connected over TCP")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if got := publishAndCount(t, js, true); got != 1 {
		t.Fatalf("stream has %d messages, want 1", got)
	}
}

func TestRestartKeepsDataAndFreesPort(t *testing.T) {
	dir := t.TempDir()
	first := start(t, natsembed.Config{StoreDir: dir, Port: natsembed.PortRandom})
	_, js := connect(t, first)
	if got := publishAndCount(t, js, true); got != 1 {
		t.Fatalf("stream has %d messages, want 1", got)
	}
	cfg := first.Config()
	shutdown(t, first)

	// Nothing is left listening on the old port.
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), time.Second); err == nil {
		c.Close()
		t.Fatal("old server still accepts TCP connections after Shutdown")
	}

	second := start(t, cfg)
	if second.ClientURL() != first.ClientURL() {
		t.Fatalf("restart moved the server: %s -> %s", first.ClientURL(), second.ClientURL())
	}
	_, js = connect(t, second)
	if got := publishAndCount(t, js, false); got != 1 {
		t.Fatalf("after restart the stream has %d messages, want 1", got)
	}
}

func TestShutdownIdempotentAndBounded(t *testing.T) {
	s := start(t, natsembed.Config{StoreDir: t.TempDir()})
	shutdown(t, s)
	shutdown(t, s)
	if _, err := s.Connect("after"); err == nil {
		t.Fatal("Connect after Shutdown succeeded")
	}
}

func TestStartErrors(t *testing.T) {
	cases := []struct {
		name string
		cfg  natsembed.Config
	}{
		{"no store dir", natsembed.Config{}},
		{"bad port", natsembed.Config{StoreDir: t.TempDir(), Port: -2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := natsembed.Start(t.Context(), tc.cfg); err == nil {
				shutdown(t, s)
				t.Fatal("Start succeeded")
			}
		})
	}
}

func TestStartPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	_, err = natsembed.Start(t.Context(), natsembed.Config{
		StoreDir: t.TempDir(), Port: port, ReadyTimeout: 300 * time.Millisecond,
	})
	if !errors.Is(err, natsembed.ErrNotReady) {
		t.Fatalf("Start on a busy port: got %v, want ErrNotReady", err)
	}
}

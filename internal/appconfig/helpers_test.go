package appconfig_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/appconfig"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testenv"
)

// propagation is the promise to gateways: a change is visible within a
// second of the write.
const propagation = time.Second

// slowTimeout bounds waits that include a server restart.
const slowTimeout = 15 * time.Second

type env struct {
	srv *natsembed.Server
	js  jetstream.JetStream
	kv  jetstream.KeyValue
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	srv := testenv.NATS(tb)
	js := testenv.JetStream(tb, testenv.NATSConn(tb, srv))
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	kv, err := appconfig.EnsureBucket(ctx, js, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{srv: srv, js: js, kv: kv}
}

func app(id string, keys ...string) channels.AppConfig {
	cfg := channels.AppConfig{ID: id, AccountID: "acc", Name: "app " + id, Enabled: true, Settings: channels.DefaultSettings()}
	for _, k := range keys {
		cfg.Keys = append(cfg.Keys, channels.AppKey{Key: k, SealedSecret: []byte("sealed-" + k)})
	}
	return cfg
}

func put(tb testing.TB, kv jetstream.KeyValue, cfg channels.AppConfig) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	if err := appconfig.Put(ctx, kv, cfg); err != nil {
		tb.Fatal(err)
	}
}

func putRaw(tb testing.TB, kv jetstream.KeyValue, key, value string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	if _, err := kv.Put(ctx, key, []byte(value)); err != nil {
		tb.Fatal(err)
	}
}

func del(tb testing.TB, kv jetstream.KeyValue, id string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	if err := appconfig.Delete(ctx, kv, id); err != nil {
		tb.Fatal(err)
	}
}

// runCache starts c.Run and returns a function that stops it, failing if
// Run returned an error; it is also called at cleanup. Tests that shut
// their server down before cleanup call it first: stopping a watcher
// while the server is away waits for an API timeout.
func runCache(tb testing.TB, c *appconfig.Cache) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					tb.Errorf("Run: %v", err)
				}
			case <-time.After(slowTimeout):
				tb.Error("Run did not return after cancel")
			}
		})
	}
	tb.Cleanup(stop)
	return stop
}

func cacheConfig(js jetstream.JetStream, logger *slog.Logger) appconfig.CacheConfig {
	return appconfig.CacheConfig{
		JS:           js,
		Logger:       logger,
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   100 * time.Millisecond,
		SetupTimeout: 5 * time.Second,
	}
}

func waitReady(tb testing.TB, c *appconfig.Cache, within time.Duration) {
	tb.Helper()
	select {
	case <-c.Ready():
	case <-time.After(within):
		tb.Fatalf("cache not ready after %s", within)
	}
}

// eventually polls cond until it holds or within has passed, and returns
// how long it took.
func eventually(tb testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	const poll = time.Millisecond
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			tb.Fatalf("%s: not true after %s", what, within)
		}
		time.Sleep(poll)
	}
	return time.Since(start)
}

// logBuffer collects log output from any goroutine.
type logBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func isMalformed(err error) bool { return errors.Is(err, appconfig.ErrMalformed) }

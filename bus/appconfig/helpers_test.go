package appconfig_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

// propagation is the promise to gateways: a change is visible within a
// second of the write.
const propagation = time.Second

// slowTimeout bounds waits that include a server restart.
const slowTimeout = 15 * time.Second

type env struct {
	js jetstream.JetStream
	kv jetstream.KeyValue
}

func newEnv(tb testing.TB) *env {
	tb.Helper()
	srv := testinfra.NATS(tb)
	js := testinfra.JetStream(tb, testinfra.NATSConn(tb, srv))
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	kv, err := appconfig.EnsureBucket(ctx, js, 1)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{js: js, kv: kv}
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

// runCache runs c until the test ends or stop is called.
func runCache(tb testing.TB, c *appconfig.Cache) (stop func()) {
	tb.Helper()
	return testinfra.Background(tb, c.Run)
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

func isMalformed(err error) bool { return errors.Is(err, appconfig.ErrMalformed) }

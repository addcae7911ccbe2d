package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testinfra"
)

// HeraldStartTimeout bounds how long Herald may take to become ready in a
// test.
const HeraldStartTimeout = 60 * time.Second

// Demo app credentials that Herald seeds in dev mode.
const (
	AppID     = "app-id"
	AppKey    = "app-key"
	AppSecret = "app-secret"
)

// HeraldEnv is a running Herald for one test.
type HeraldEnv struct {
	*platform.Platform
	// Config is the configuration it was started with (defaults applied by
	// the platform are not reflected here).
	Config platform.Config
}

// Herald starts the same platform `herald dev` runs, on a fresh database
// (testinfra.Postgres) and a random port, with an embedded NATS that listens
// on a random loopback port. modify, if given, adjusts the Config first.
// It is stopped at cleanup.
func Herald(tb testing.TB, modify ...func(*platform.Config)) *HeraldEnv {
	tb.Helper()
	cfg := platform.Config{
		Mode:               platform.ModeDev,
		Addr:               "127.0.0.1:0",
		DataDir:            tb.TempDir(),
		DatabaseURL:        testinfra.Postgres(tb),
		NATSPort:           -1,
		ConfigSyncInterval: time.Second,
		ShutdownTimeout:    5 * time.Second,
		Logger:             testinfra.Logger(tb),
		Gateway: platform.GatewayConfig{
			PongTimeout:       2 * time.Second,
			ShutdownSpread:    200 * time.Millisecond,
			KeepaliveInterval: 100 * time.Millisecond,
			SSEHeartbeat:      300 * time.Millisecond,
			MemberTTL:         10 * time.Second,
			GatewayTTL:        3 * time.Second,
			HeartbeatInterval: time.Second,
			ConnCountInterval: 100 * time.Millisecond,
		},
	}
	for _, m := range modify {
		m(&cfg)
	}
	return StartHerald(tb, cfg)
}

// StartHerald runs a platform with exactly cfg and waits until it serves.
func StartHerald(tb testing.TB, cfg platform.Config) *HeraldEnv {
	tb.Helper()
	for _, s := range []string{cfg.DevAppSecret, cfg.AdminToken, cfg.MasterKey, AppSecret} {
		testinfra.Sensitive(s)
	}
	p, err := platform.New(cfg)
	if err != nil {
		tb.Fatalf("herald config: %v", err)
	}
	var runErr error
	finished := make(chan struct{})
	go func() {
		runErr = p.Run(context.Background())
		close(finished)
	}()
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("herald close: %v", err)
		}
		<-finished
		if runErr != nil {
			tb.Errorf("herald run: %v", runErr)
		}
	})
	select {
	case <-p.Ready():
	case <-finished:
		tb.Fatalf("herald failed to start: %v", runErr)
	case <-time.After(HeraldStartTimeout):
		tb.Fatalf("herald not ready after %s", HeraldStartTimeout)
	}
	testinfra.Sensitive(p.AdminToken())
	return &HeraldEnv{Platform: p, Config: cfg}
}

package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/appconfig"
	"github.com/heraldhq/herald/channels"
)

// quotaWriteTimeout bounds SetQuota's NATS calls.
const quotaWriteTimeout = 10 * time.Second

// SetQuota writes app appID's config with quota q straight into the
// HERALD_APPS bucket of the NATS at natsURL, as the control plane does for
// an account's plan. The control plane's next reconcile writes the
// config it computes back: tests that keep q start Herald with a long
// ConfigSyncInterval.
func SetQuota(tb testing.TB, natsURL, appID string, q channels.Quota) {
	tb.Helper()
	nc, err := nats.Connect(natsURL)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tb.Context(), quotaWriteTimeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, appconfig.Bucket)
	if err != nil {
		tb.Fatal(err)
	}
	e, err := kv.Get(ctx, appID)
	if err != nil {
		tb.Fatalf("app %s config: %v", appID, err)
	}
	cfg, err := appconfig.Decode(e.Value())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Quota = q
	if err := appconfig.Put(ctx, kv, cfg); err != nil {
		tb.Fatal(err)
	}
}

package gateways_test

import (
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestReader(t *testing.T) {
	srv := testinfra.NATS(t)
	nc := testinfra.NATSConn(t, srv)
	reg := gateways.NewReader(nc)
	if ids, err := reg.GatewayIDs(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("without a bucket: %v, %v", ids, err)
	}

	js := testinfra.JetStream(t, nc)
	if err := gateways.EnsureBucket(t.Context(), js, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(t.Context(), gateways.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := reg.GatewayIDs(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("empty bucket: %v, %v", ids, err)
	}
	ctx := t.Context()
	for _, id := range []string{"gw-a", "gw-b", "gw-deleted", "gw-purged"} {
		if _, err := kv.Put(ctx, id, []byte(`{"id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	if err := kv.Delete(ctx, "gw-deleted"); err != nil {
		t.Fatal(err)
	}
	if err := kv.Purge(ctx, "gw-purged"); err != nil {
		t.Fatal(err)
	}
	// A janitor lock is not a gateway; an expiring key is one until it
	// expires and leaves a marker.
	if _, err := kv.Create(ctx, "janitor.gw-x", []byte("gw-a")); err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Create(ctx, "gw-expiring", []byte("{}"), jetstream.KeyTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	ids, err := reg.GatewayIDs(ctx)
	if err != nil || !slices.Equal(ids, []string{"gw-a", "gw-b", "gw-expiring"}) {
		t.Fatalf("ids = %v, %v", ids, err)
	}
	testinfra.WaitUntil(t, "the expired key unlisted", func() bool {
		ids, err = reg.GatewayIDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return slices.Equal(ids, []string{"gw-a", "gw-b"})
	})
}

package cachechan_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestPutGetExpire(t *testing.T) {
	s := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, s))
	ctx := context.Background()
	store, err := cachechan.Open(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := store.Get(ctx, "app", "cache-x"); ok || err != nil {
		t.Fatalf("empty Get = %v %v", ok, err)
	}
	if err := store.Put(ctx, "app", "cache-a.b", cachechan.Entry{Event: "e1", Data: "d1", Serial: 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := store.Put(ctx, "app", "cache-a.b", cachechan.Entry{Event: "e2", Data: "d2", Serial: 2}, time.Second); err != nil {
		t.Fatal(err)
	}
	e, ok, err := store.Get(ctx, "app", "cache-a.b")
	if err != nil || !ok || e.Event != "e2" || e.Data != "d2" || e.Serial != 2 {
		t.Fatalf("Get = %+v %v %v", e, ok, err)
	}
	if _, ok, _ := store.Get(ctx, "other-app", "cache-a.b"); ok {
		t.Fatal("another app sees the entry")
	}
	testinfra.WaitUntil(t, "the entry to expire", func() bool {
		_, ok, _ := store.Get(ctx, "app", "cache-a.b")
		return !ok
	})
}

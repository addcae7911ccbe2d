package cachechan_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/internal/testinfra"
)

// openStore opens a Store on a NATS server of the test's own.
func openStore(t *testing.T) *cachechan.Store {
	t.Helper()
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	store, err := cachechan.Open(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return store
}

func TestPutGetExpire(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
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

// TestPutKeepsHighestSerial: whatever order puts land in, sequential or
// concurrent, the entry left is the one with the highest serial.
func TestPutKeepsHighestSerial(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	const writers, rounds = 8, 10
	cases := []struct {
		name       string
		concurrent bool
	}{
		{"older after newer", false},
		{"concurrent", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for round := range rounds {
				channel := fmt.Sprintf("cache-%s-%d", strings.ReplaceAll(tc.name, " ", "-"), round)
				var wg sync.WaitGroup
				errs := make(chan error, writers)
				// Highest serial first: sequentially, every later put is older.
				for w := writers; w >= 1; w-- {
					put := func() {
						errs <- store.Put(ctx, "app", channel, cachechan.Entry{Event: "e", Data: fmt.Sprint(w), Serial: uint64(w)}, time.Minute)
					}
					if !tc.concurrent {
						put()
						continue
					}
					wg.Add(1)
					go func() { defer wg.Done(); put() }()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatal(err)
					}
				}
				e, ok, err := store.Get(ctx, "app", channel)
				if err != nil || !ok || e.Serial != writers || e.Data != fmt.Sprint(writers) {
					t.Fatalf("round %d: Get = %+v %v %v; want serial %d", round, e, ok, err, writers)
				}
			}
		})
	}
}

// TestPutAfterExpiry: an expired entry, whatever its serial, is replaced.
func TestPutAfterExpiry(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	if err := store.Put(ctx, "app", "cache-x", cachechan.Entry{Event: "old", Serial: 100}, time.Second); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "the entry to expire", func() bool {
		_, ok, _ := store.Get(ctx, "app", "cache-x")
		return !ok
	})
	if err := store.Put(ctx, "app", "cache-x", cachechan.Entry{Event: "new", Serial: 1}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if e, ok, err := store.Get(ctx, "app", "cache-x"); err != nil || !ok || e.Event != "new" {
		t.Fatalf("Get = %+v %v %v", e, ok, err)
	}
}

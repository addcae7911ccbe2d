package kvwatch_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// Waits: propagation is the promise to caches (a change is visible
// within a second); slowTimeout bounds waits that include a restart.
const (
	propagation = time.Second
	slowTimeout = 15 * time.Second
)

const bucket = "KVWATCH_TEST"

func createBucket(tb testing.TB, js jetstream.JetStream) jetstream.KeyValue {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, History: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return kv
}

func put(tb testing.TB, kv jetstream.KeyValue, key, value string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	if _, err := kv.PutString(ctx, key, value); err != nil {
		tb.Fatal(err)
	}
}

func del(tb testing.TB, kv jetstream.KeyValue, key string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), slowTimeout)
	defer cancel()
	if err := kv.Delete(ctx, key); err != nil {
		tb.Fatal(err)
	}
}

// recorder keeps what a watcher handed to Load and Apply, each entry
// written as "key=value" for a put and "-key" for a delete.
type recorder struct {
	mu      sync.Mutex
	loads   [][]string
	applied []string
	batches []int
}

func describe(kve jetstream.KeyValueEntry) string {
	if kve.Operation() != jetstream.KeyValuePut {
		return "-" + kve.Key()
	}
	return kve.Key() + "=" + string(kve.Value())
}

func (r *recorder) load(entries []jetstream.KeyValueEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := []string{}
	for _, kve := range entries {
		got = append(got, describe(kve))
	}
	r.loads = append(r.loads, got)
}

func (r *recorder) apply(batch []jetstream.KeyValueEntry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, len(batch))
	for _, kve := range batch {
		r.applied = append(r.applied, describe(kve))
	}
}

func (r *recorder) Loads() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.loads)
}

func (r *recorder) Applied() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.applied)
}

func (r *recorder) Batches() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.batches)
}

// config is a fast-retrying watcher config that records into r.
func config(js jetstream.JetStream, logger *slog.Logger, r *recorder) kvwatch.Config {
	return kvwatch.Config{
		JS:           js,
		Bucket:       bucket,
		Logger:       logger,
		MinBackoff:   10 * time.Millisecond,
		MaxBackoff:   100 * time.Millisecond,
		SetupTimeout: 5 * time.Second,
		Load:         r.load,
		Apply:        r.apply,
	}
}

func assertNotReady(tb testing.TB, w *kvwatch.Watcher) {
	tb.Helper()
	select {
	case <-w.Ready():
		tb.Fatal("Ready closed before a load")
	default:
	}
}

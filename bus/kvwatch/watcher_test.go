package kvwatch_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/kvwatch"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestLoadThenApply(t *testing.T) {
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	kv := createBucket(t, js)
	put(t, kv, "a", "1")
	put(t, kv, "b", "1")
	put(t, kv, "b", "2")
	put(t, kv, "c", "1")
	del(t, kv, "c")

	var rec recorder
	w := kvwatch.New(config(js, nil, &rec))
	assertNotReady(t, w)
	testinfra.Background(t, w.Run)
	testinfra.WaitReady(t, "the watcher", w.Ready())
	// Load sees live values only: the latest of each key, no deletes.
	if got, want := rec.Loads(), [][]string{{"a=1", "b=2"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("loads = %q, want %q", got, want)
	}

	put(t, kv, "d", "1")
	del(t, kv, "a")
	put(t, kv, "b", "3")
	want := []string{"d=1", "-a", "b=3"}
	testinfra.WaitUntilWithin(t, "updates applied in order", propagation, func() bool {
		return slices.Equal(rec.Applied(), want)
	})
	for _, n := range rec.Batches() {
		if n < 1 || n > kvwatch.MaxBatch {
			t.Errorf("batch of %d updates", n)
		}
	}
	if n := len(rec.Loads()); n != 1 {
		t.Errorf("%d loads without a failure, want 1", n)
	}
}

func TestReadyOnEmptyBucket(t *testing.T) {
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	createBucket(t, js)
	var rec recorder
	w := kvwatch.New(config(js, nil, &rec))
	testinfra.Background(t, w.Run)
	testinfra.WaitReady(t, "the watcher", w.Ready())
	if got := rec.Loads(); len(got) != 1 || len(got[0]) != 0 {
		t.Fatalf("loads = %q, want one empty load", got)
	}
}

func TestWatchesAgainUntilBucketExists(t *testing.T) {
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	var logs testinfra.LogBuffer
	var rec recorder
	w := kvwatch.New(config(js, logs.Logger(), &rec))
	testinfra.Background(t, w.Run)
	testinfra.WaitUntilWithin(t, "a failed attempt on the missing bucket", slowTimeout, func() bool {
		return strings.Contains(logs.String(), "bucket not found")
	})
	assertNotReady(t, w)

	kv := createBucket(t, js)
	put(t, kv, "late", "1")
	testinfra.WaitReady(t, "the watcher", w.Ready())
	testinfra.WaitUntilWithin(t, "entry of a bucket created after Run", slowTimeout, func() bool {
		loads := rec.Loads()
		return slices.Contains(loads[len(loads)-1], "late=1") || slices.Contains(rec.Applied(), "late=1")
	})
}

func TestReloadsAfterServerRestart(t *testing.T) {
	srv := testinfra.NATS(t)
	// The watcher and the writer use separate connections, as a gateway
	// and a control plane would.
	watchJS := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	kv := createBucket(t, testinfra.JetStream(t, testinfra.NATSConn(t, srv)))
	put(t, kv, "before", "1")

	var logs testinfra.LogBuffer
	var rec recorder
	w := kvwatch.New(config(watchJS, logs.Logger(), &rec))
	stop := testinfra.Background(t, w.Run)
	testinfra.WaitReady(t, "the watcher", w.Ready())

	testinfra.RestartNATS(t, srv)
	// The new server's cleanup runs before Background's; stop first.
	defer stop()

	// The writer's connection reconnects on its own; retry until it has.
	testinfra.WaitUntilWithin(t, "write after restart", slowTimeout, func() bool {
		_, err := kv.PutString(t.Context(), "after", "1")
		return err == nil
	})
	// A watch after the restart loads the whole bucket again.
	testinfra.WaitUntilWithin(t, "reload after restart", slowTimeout, func() bool {
		loads := rec.Loads()
		return len(loads) >= 2 && slices.Contains(loads[len(loads)-1], "before=1") &&
			(slices.Contains(loads[len(loads)-1], "after=1") || slices.Contains(rec.Applied(), "after=1"))
	})
	// The old watcher's consumer does not linger next to the new one.
	testinfra.WaitUntilWithin(t, "one watcher consumer", slowTimeout, func() bool {
		st, err := watchJS.Stream(t.Context(), "KV_"+bucket)
		if err != nil {
			return false
		}
		info, err := st.Info(t.Context())
		return err == nil && info.State.Consumers == 1
	})
	if !strings.Contains(logs.String(), "watching again") {
		t.Errorf("the watcher did not notice the restart; logs:\n%s", logs.String())
	}

	// Updates after recovery still arrive within the promised second.
	start := time.Now()
	del(t, kv, "before")
	testinfra.WaitUntilWithin(t, "delete after restart", propagation-time.Since(start), func() bool {
		return slices.Contains(rec.Applied(), "-before")
	})
}

func TestSetupTimeout(t *testing.T) {
	srv := testinfra.NATS(t)
	nc := testinfra.NATSConn(t, srv)
	// A JetStream API that someone listens on but never answers: without
	// a setup timeout, each attempt would wait for nats.go's own.
	const prefix = "blackhole.API"
	sub, err := nc.Subscribe(prefix+".>", func(*nats.Msg) {})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	js, err := jetstream.NewWithAPIPrefix(nc, prefix)
	if err != nil {
		t.Fatal(err)
	}

	var logs testinfra.LogBuffer
	var rec recorder
	cfg := config(js, logs.Logger(), &rec)
	cfg.SetupTimeout = 20 * time.Millisecond
	w := kvwatch.New(cfg)
	testinfra.Background(t, w.Run)
	testinfra.WaitUntilWithin(t, "two timed-out attempts", slowTimeout, func() bool {
		return strings.Count(logs.String(), "watch setup timed out") >= 2
	})
	assertNotReady(t, w)
}

func TestRunErrors(t *testing.T) {
	srv := testinfra.NATS(t)
	nc := testinfra.NATSConn(t, srv)
	js := testinfra.JetStream(t, nc)
	createBucket(t, js)
	var rec recorder

	incomplete := []struct {
		name   string
		modify func(*kvwatch.Config)
	}{
		{"no JS", func(c *kvwatch.Config) { c.JS = nil }},
		{"no bucket", func(c *kvwatch.Config) { c.Bucket = "" }},
		{"no Load", func(c *kvwatch.Config) { c.Load = nil }},
		{"no Apply", func(c *kvwatch.Config) { c.Apply = nil }},
	}
	for _, tc := range incomplete {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(js, nil, &rec)
			tc.modify(&cfg)
			if err := kvwatch.New(cfg).Run(t.Context()); err == nil {
				t.Fatal("Run succeeded")
			}
		})
	}

	w := kvwatch.New(config(js, nil, &rec))
	done := make(chan error, 1)
	go func() { done <- w.Run(context.Background()) }()
	testinfra.WaitReady(t, "the watcher", w.Ready())
	if err := w.Run(t.Context()); !errors.Is(err, kvwatch.ErrAlreadyRunning) {
		t.Fatalf("second Run = %v, want ErrAlreadyRunning", err)
	}

	// A connection closed for good ends Run with an error.
	nc.Close()
	select {
	case err := <-done:
		if !errors.Is(err, kvwatch.ErrConnClosed) {
			t.Fatalf("Run after the connection closed = %v, want ErrConnClosed", err)
		}
	case <-time.After(slowTimeout):
		t.Fatal("Run did not return after the connection closed")
	}
}

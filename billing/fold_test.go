package billing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/meter"
	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane/postgres"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// foldDeadline bounds the wait for folds to reach Postgres.
const foldDeadline = 10 * time.Second

// foldEnv is real NATS and a migrated Postgres behind a postgres.Store.
type foldEnv struct {
	js    jetstream.JetStream
	pool  *pgxpool.Pool
	store *postgres.Store
}

func newFoldEnv(tb testing.TB) *foldEnv {
	tb.Helper()
	s := testinfra.NATS(tb)
	js := testinfra.JetStream(tb, testinfra.NATSConn(tb, s))
	url := testinfra.Postgres(tb)
	if err := postgres.MigrateUp(context.Background(), url); err != nil {
		tb.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	store, err := postgres.NewStore(postgres.Config{Pool: pool, Box: testenv.MasterBox(tb)})
	if err != nil {
		tb.Fatal(err)
	}
	return &foldEnv{js: js, pool: pool, store: store}
}

// month reads an app's month row (zero when there is none).
func (e *foldEnv) month(tb testing.TB, appID string) billing.Counters {
	tb.Helper()
	var c billing.Counters
	_ = e.pool.QueryRow(context.Background(), `
		select messages_published, messages_delivered, bytes_in from usage
		where app_id = $1 and granularity = 'month'`, appID).Scan(&c.MessagesPublished, &c.MessagesDelivered, &c.BytesIn)
	return c
}

// waitMonth waits until the app's month row is want, then checks that it
// stays so (nothing folded twice after).
func (e *foldEnv) waitMonth(tb testing.TB, appID string, want billing.Counters) {
	tb.Helper()
	deadline := time.Now().Add(foldDeadline)
	for e.month(tb, appID) != want {
		if time.Now().After(deadline) {
			tb.Fatalf("month usage %+v; want %+v", e.month(tb, appID), want)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	if got := e.month(tb, appID); got != want {
		tb.Fatalf("month usage moved to %+v; want %+v", got, want)
	}
}

func runInBackground(tb testing.TB, run func(context.Context) error) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
}

// A flush published twice under one id is stored once; the same flush
// published again after the duplicate window (another message, the same
// flush id) is folded once; two aggregators share the work.
func TestAggregatorFoldsEachFlushOnce(t *testing.T) {
	e := newFoldEnv(t)
	ctx := context.Background()
	if err := meter.EnsureStream(ctx, e.js, meter.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		a, err := billing.NewAggregator(billing.AggregatorConfig{JS: e.js, Store: e.store, Wait: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		runInBackground(t, a.Run)
	}
	const flushes = 20
	for i := range flushes {
		f := billing.Flush{ID: fmt.Sprintf("gw.n.%d", i), Minute: time.Now().UTC().Truncate(time.Minute),
			Apps: []billing.AppUsage{{AppID: "app", Counters: billing.Counters{MessagesDelivered: 1}}}}
		payload, err := billing.EncodeFlush(f)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := meter.Publish(ctx, e.js, "gw", f.ID, payload); err != nil {
				t.Fatal(err)
			}
		}
		// Past JetStream's window: a second message with the same flush.
		if err := meter.Publish(ctx, e.js, "gw", f.ID+"-late", payload); err != nil {
			t.Fatal(err)
		}
	}
	e.waitMonth(t, "app", billing.Counters{MessagesDelivered: flushes})
}

// Two counters racing over the message stream count every stored message
// once: idempotent retries are never stored, so never counted.
func TestPublishedCounterExact(t *testing.T) {
	e := newFoldEnv(t)
	ctx := context.Background()
	if err := stream.Ensure(ctx, e.js, stream.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: e.js})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		c, err := billing.NewPublishedCounter(billing.PublishedConfig{JS: e.js, Store: e.store, Batch: 7, Wait: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		runInBackground(t, c.Run)
	}
	const unique = 100
	for i := range unique {
		m := stream.Message{AppID: "app", Channel: "news", Event: "e", Data: []byte("1234"), Source: stream.SourceAPI,
			MsgID: fmt.Sprintf("idem-%d", i)}
		for range 1 + i%3 {
			if _, _, err := pub.Publish(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.waitMonth(t, "app", billing.Counters{MessagesPublished: unique, BytesIn: 4 * unique})
}

// TestPublishedCounterReadsHeldSerials: a message delivered elsewhere and
// not acknowledged (a fetch that ended before it came, a folder that
// died) leaves a hole before the batches; past GapGrace the counter reads
// the hole from the stream instead of counting past it. Held, it is
// counted (once, though it is delivered again later); deleted, the
// others are counted without it.
func TestPublishedCounterReadsHeldSerials(t *testing.T) {
	for _, tc := range []struct {
		name   string
		delete bool
		want   int64
	}{
		{"held", false, 5},
		{"deleted", true, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const ackWait, grace = 2 * time.Second, 100 * time.Millisecond
			e := newFoldEnv(t)
			ctx := t.Context()
			if err := stream.Ensure(ctx, e.js, stream.StreamConfig{}); err != nil {
				t.Fatal(err)
			}
			pub, err := stream.NewPublisher(stream.PublisherConfig{JS: e.js})
			if err != nil {
				t.Fatal(err)
			}
			app := "app-" + tc.name
			for i := range 5 {
				m := stream.Message{AppID: app, Channel: "news", Event: "e", Data: []byte("1234"), Source: stream.SourceAPI,
					MsgID: fmt.Sprintf("held-%d", i)}
				if _, _, err := pub.Publish(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			// Another fetch of the counter's consumer takes serial 1 and
			// never acknowledges it.
			c, err := billing.NewPublishedCounter(billing.PublishedConfig{JS: e.js, Store: e.store, Batch: 10,
				Wait: 50 * time.Millisecond, AckWait: ackWait, GapGrace: grace})
			if err != nil {
				t.Fatal(err)
			}
			cons, err := e.js.CreateOrUpdateConsumer(ctx, stream.StreamName(0), jetstream.ConsumerConfig{
				Durable: meter.PublishedConsumer, Description: "Herald published-message meter",
				DeliverPolicy: jetstream.DeliverAllPolicy, AckPolicy: jetstream.AckExplicitPolicy,
				AckWait: ackWait, MaxDeliver: -1, MaxAckPending: 10, Replicas: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			batch, err := cons.Fetch(1)
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				if md, _ := m.Metadata(); md == nil || md.Sequence.Stream != 1 {
					t.Fatalf("the other fetch got %v, want serial 1", md)
				}
			}
			if tc.delete {
				st, err := e.js.Stream(ctx, stream.StreamName(0))
				if err != nil {
					t.Fatal(err)
				}
				if err := st.DeleteMsg(ctx, 1); err != nil {
					t.Fatal(err)
				}
			}
			runInBackground(t, c.Run)
			e.waitMonth(t, app, billing.Counters{MessagesPublished: tc.want, BytesIn: 4 * tc.want})
		})
	}
}

package history_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/internal/pgcluster"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestNewWriterNeedsJSAndSink(t *testing.T) {
	n := newNATS(t)
	if _, err := history.NewWriter(history.Config{JS: n.js}); err == nil {
		t.Error("no error without Sink")
	}
	if _, err := history.NewWriter(history.Config{Sink: newDB(t, "").store}); err == nil {
		t.Error("no error without JS")
	}
}

// TestWriterStoresEveryMessageOnce: every message lands once, with what
// was published; a second writer that reads the whole stream again (a new
// consumer) stores nothing twice.
func TestWriterStoresEveryMessageOnce(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	ctx := t.Context()
	want := publish(t, n.pub, testApp, 1000, 7)
	client := stream.Message{AppID: testApp, Channel: "presence-room.1", Event: "client-typing",
		Data: []byte{0, 0xff, 'x'}, UserID: "user ü", ExcludeSocket: "1.2", Source: stream.SourceClient}
	clientSerial, _, err := n.pub.Publish(ctx, client)
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, clientSerial)

	reg := prometheus.NewRegistry()
	_, stop := startWriter(t, history.Config{JS: n.js, Sink: d.store, Registerer: reg, BatchSize: 100})
	testinfra.WaitUntil(t, "every message stored", func() bool { return d.count(t) == len(want) })
	if got := d.serials(t); !slices.Equal(got, want) {
		t.Fatalf("stored serials differ from published ones:\n got %v\nwant %v", got, want)
	}
	items, err := d.store.ListHistory(ctx, controlplane.HistoryQuery{AppID: testApp, Channel: client.Channel, Limit: 10})
	if err != nil || len(items) != 1 {
		t.Fatalf("client event history = %+v, %v", items, err)
	}
	got := items[0]
	if got.Serial != clientSerial || got.Event != client.Event || !bytes.Equal(got.Data, client.Data) ||
		got.UserID != client.UserID || got.Stream != stream.StreamName(0) || time.Since(got.PublishedAt) > time.Minute {
		t.Errorf("stored %+v for %+v", got, client)
	}
	testinfra.WaitUntil(t, "lag and pending back to 0", func() bool {
		return metric(t, reg, "herald_history_lag_seconds") == 0 && metric(t, reg, "herald_history_pending_messages") == 0
	})
	if w := metric(t, reg, "herald_history_messages_written_total", "stream", "HERALD_MSG"); w != float64(len(want)) {
		t.Errorf("messages_written_total = %v, want %d", w, len(want))
	}
	if b := metric(t, reg, "herald_history_batches_total"); b < float64(len(want)/100) {
		t.Errorf("batches_total = %v, want at least %d", b, len(want)/100)
	}
	if h := metric(t, reg, "herald_history_delay_seconds"); h != float64(len(want)) {
		t.Errorf("delay_seconds count = %v, want %d", h, len(want))
	}
	stop()

	// The same messages again, from the start of the stream.
	if err := n.js.DeleteConsumer(ctx, stream.StreamName(0), history.DefaultConsumer); err != nil {
		t.Fatal(err)
	}
	reg2 := prometheus.NewRegistry()
	startWriter(t, history.Config{JS: n.js, Sink: d.store, Registerer: reg2})
	testinfra.WaitUntil(t, "every message seen again", func() bool {
		return metric(t, reg2, "herald_history_messages_duplicate_total") == float64(len(want))
	})
	if c := d.count(t); c != len(want) {
		t.Errorf("%d messages after a second pass, want %d", c, len(want))
	}
	if w := metric(t, reg2, "herald_history_messages_written_total"); w != 0 {
		t.Errorf("second pass wrote %v messages", w)
	}
}

// TestWriterRestart: a writer stopped in the middle of the stream and a
// new one on the same consumer leave the history complete.
func TestWriterRestart(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	want := publish(t, n.pub, testApp, 3000, 10)
	_, stop := startWriter(t, history.Config{JS: n.js, Sink: d.store, BatchSize: 50})
	testinfra.WaitUntil(t, "a first batch", func() bool { return d.count(t) > 0 })
	stop()
	t.Logf("stopped after %d of %d messages", d.count(t), len(want))
	want = append(want, publish(t, n.pub, testApp, 500, 10)...)
	startWriter(t, history.Config{JS: n.js, Sink: d.store, BatchSize: 50})
	testinfra.WaitUntil(t, "every message stored", func() bool { return d.count(t) == len(want) })
	if got := d.serials(t); !slices.Equal(got, want) {
		t.Fatalf("stored serials differ from published ones")
	}
}

// apps is a fixed AppSource.
type apps map[string]*channels.AppConfig

func (a apps) App(id string) (*channels.AppConfig, bool) {
	c, ok := a[id]
	return c, ok
}

func appWithRetention(id string, seconds int) *channels.AppConfig {
	s := channels.DefaultSettings()
	s.HistoryRetentionS = seconds
	return &channels.AppConfig{ID: id, Enabled: true, Settings: s}
}

// TestWriterSkipsWhatItCannotOrNeedNotStore: apps that keep no history
// and malformed messages are acknowledged, not stored, and never block
// the messages after them.
func TestWriterSkipsWhatItCannotOrNeedNotStore(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	ctx := t.Context()
	publish(t, n.pub, "none", 20, 2)
	raw := func(subject string, h nats.Header) {
		t.Helper()
		if _, err := n.js.PublishMsg(ctx, &nats.Msg{Subject: subject, Header: h, Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	raw("herald.msg.0."+testApp+".!!", nats.Header{stream.HeaderEvent: {"e"}})
	raw(channels.MessageSubject(0, testApp, "c"), nats.Header{})
	raw(channels.MessageSubject(0, testApp, "c"), nats.Header{stream.HeaderEvent: {"e"}, stream.HeaderUser: {"bad\xff"}})
	raw(channels.MessageSubject(0, testApp, "bad\x00channel"), nats.Header{stream.HeaderEvent: {"e"}})
	want := publish(t, n.pub, testApp, 30, 3)

	reg := prometheus.NewRegistry()
	startWriter(t, history.Config{JS: n.js, Sink: d.store, Registerer: reg,
		Apps: apps{"none": appWithRetention("none", 0), testApp: appWithRetention(testApp, 60)}})
	testinfra.WaitUntil(t, "every message handled", func() bool {
		return metric(t, reg, "herald_history_messages_written_total") == float64(len(want)) &&
			metric(t, reg, "herald_history_messages_skipped_total", "reason", "retention") == 20 &&
			metric(t, reg, "herald_history_messages_skipped_total", "reason", "malformed") == 4
	})
	if got := d.serials(t); !slices.Equal(got, want) {
		t.Fatalf("stored %v, want %v", got, want)
	}
	cons, err := n.js.Consumer(ctx, stream.StreamName(0), history.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "nothing left unacknowledged", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
}

// TestWriterRidesOutDatabaseOutage: with PostgreSQL down for longer than
// the writer's backoff, publishing goes on; once it is back, the writer
// catches up and the history is complete.
func TestWriterRidesOutDatabaseOutage(t *testing.T) {
	n := newNATS(t)
	cluster := testinfra.NewPostgresCluster(t)
	d := newDB(t, cluster.URL(pgcluster.DefaultDatabase))
	reg := prometheus.NewRegistry()
	const maxRetryWait = 200 * time.Millisecond
	startWriter(t, history.Config{JS: n.js, Sink: d.store, Registerer: reg,
		RetryWait: 20 * time.Millisecond, MaxRetryWait: maxRetryWait, WriteTimeout: 2 * time.Second, AckWait: 2 * time.Second})

	want := publish(t, n.pub, testApp, 200, 4)
	testinfra.WaitUntil(t, "the first messages stored", func() bool { return d.count(t) == len(want) })

	if err := cluster.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Publishing does not depend on the database.
	want = append(want, publish(t, n.pub, testApp, 500, 4)...)
	errsBefore := metric(t, reg, "herald_history_errors_total", "op", "write")
	// Several failed writes outlast the backoff cap (20, 40, 80, 160, 200
	// ms), and a lag above the ack wait shows that the writer kept its
	// batch from being delivered again.
	testinfra.WaitUntil(t, "an outage longer than the backoff and the ack wait", func() bool {
		return metric(t, reg, "herald_history_errors_total", "op", "write") >= errsBefore+5 &&
			metric(t, reg, "herald_history_lag_seconds") > 2.5
	})
	if p := metric(t, reg, "herald_history_pending_messages"); p == 0 {
		t.Error("nothing pending during the outage")
	}
	want = append(want, publish(t, n.pub, testApp, 300, 4)...)

	restarted, err := pgcluster.Start(context.Background(), pgcluster.Config{Dir: cluster.Dir(), Fast: true, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = restarted.Stop(context.Background()) })
	testinfra.WaitUntil(t, "the writer caught up", func() bool { return d.count(t) == len(want) })
	if got := d.serials(t); !slices.Equal(got, want) {
		t.Fatal("stored serials differ from published ones")
	}
	testinfra.WaitUntil(t, "lag back to 0", func() bool { return metric(t, reg, "herald_history_lag_seconds") == 0 })
	// Nothing was delivered twice: the held batch was kept in progress.
	if dup := metric(t, reg, "herald_history_messages_duplicate_total"); dup != 0 {
		t.Errorf("%v messages written twice", dup)
	}
	t.Logf("write errors during the outage: %v", metric(t, reg, "herald_history_errors_total", "op", "write"))
}

// failingSink fails every write while fail is set, and otherwise writes
// to the real store: a database that one control plane cannot reach.
type failingSink struct {
	history.Sink
	fail atomic.Bool
}

func (s *failingSink) WriteHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error) {
	if s.fail.Load() {
		return 0, errors.New("injected write failure")
	}
	return s.Sink.WriteHistory(ctx, msgs)
}

// TestWriterKeepsItsBatchWhileRetrying: a writer that cannot write keeps
// its batch in progress past the ack wait, so another writer sharing the
// consumer goes on with the rest of the stream instead of writing that
// batch a second time.
func TestWriterKeepsItsBatchWhileRetrying(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	const ackWait = time.Second
	stuck := &failingSink{Sink: d.store}
	stuck.fail.Store(true)
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	// One loop each: a stuck writer's other loops would take (and keep)
	// the later messages as well, whichever writer's fetch came first.
	cfg := history.Config{JS: n.js, AckWait: ackWait, RetryWait: 20 * time.Millisecond, MaxRetryWait: 50 * time.Millisecond,
		Concurrency: 1}

	// Published before the first writer starts, so that its first fetch
	// takes all 100 as one batch: a fetch takes what has accumulated
	// (stream.FetchPaced), and a batch fetched while the publisher was
	// still going would hold only part of them.
	want := publish(t, n.pub, testApp, 100, 2)
	a := cfg
	a.Sink, a.Registerer = stuck, regA
	startWriter(t, a)
	testinfra.WaitUntil(t, "the first writer failing", func() bool {
		return metric(t, regA, "herald_history_errors_total", "op", "write") > 0
	})

	b := cfg
	b.Sink, b.Registerer = d.store, regB
	startWriter(t, b)
	want = append(want, publish(t, n.pub, testApp, 100, 2)...)
	testinfra.WaitUntil(t, "the second writer done and the first one stuck past the ack wait", func() bool {
		return metric(t, regB, "herald_history_messages_written_total") >= 100 &&
			metric(t, regA, "herald_history_lag_seconds") > 2*ackWait.Seconds()
	})
	if c := d.count(t); c != 100 {
		t.Fatalf("%d messages stored while the first writer held its batch, want 100", c)
	}

	stuck.fail.Store(false)
	testinfra.WaitUntil(t, "every message stored", func() bool { return d.count(t) == len(want) })
	if got := d.serials(t); !slices.Equal(got, want) {
		t.Fatal("stored serials differ from published ones")
	}
	dups := metric(t, regA, "herald_history_messages_duplicate_total") + metric(t, regB, "herald_history_messages_duplicate_total")
	if dups != 0 {
		t.Errorf("%v messages written twice", dups)
	}
}

// slowSink makes its first write last longer than the ack wait.
type slowSink struct {
	history.Sink
	delay   time.Duration
	started chan struct{}
	once    atomic.Bool
}

func (s *slowSink) WriteHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error) {
	if s.once.CompareAndSwap(false, true) {
		close(s.started)
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return s.Sink.WriteHistory(ctx, msgs)
}

// TestWriterHoldsASlowBatch: the ack wait is short (it is how long the
// batch of a writer that died waits), so a writer renews its batch for as
// long as one write takes; another writer sharing the consumer never gets
// it meanwhile.
func TestWriterHoldsASlowBatch(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	const ackWait = time.Second
	want := publish(t, n.pub, testApp, 100, 2)
	slow := &slowSink{Sink: d.store, delay: 3 * ackWait, started: make(chan struct{})}
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()
	startWriter(t, history.Config{JS: n.js, Sink: slow, Registerer: regA, AckWait: ackWait})
	select {
	case <-slow.started:
	case <-time.After(testTimeout):
		t.Fatal("the first writer never wrote")
	}
	startWriter(t, history.Config{JS: n.js, Sink: d.store, Registerer: regB, AckWait: ackWait})
	testinfra.WaitUntil(t, "every message stored", func() bool { return d.count(t) == len(want) })
	testinfra.WaitUntil(t, "the slow write done", func() bool {
		return metric(t, regA, "herald_history_batches_total") > 0
	})
	dups := metric(t, regA, "herald_history_messages_duplicate_total") + metric(t, regB, "herald_history_messages_duplicate_total")
	if dups != 0 {
		t.Errorf("%v messages written twice: the slow batch was delivered again", dups)
	}
}

// TestNewWriterRefusesABatchWaitNearTheAckWait: deliveries wait in a
// fetch for up to the batch wait before the writer renews them.
func TestNewWriterRefusesABatchWaitNearTheAckWait(t *testing.T) {
	n := newNATS(t)
	_, err := history.NewWriter(history.Config{JS: n.js, Sink: newDB(t, "").store, AckWait: time.Second, MaxWait: 600 * time.Millisecond})
	if err == nil {
		t.Fatal("no error for a batch wait above half the ack wait")
	}
}

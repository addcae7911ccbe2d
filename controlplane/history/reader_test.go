package history_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/heraldhq/herald/internal/testinfra"
)

// fixedMark is a watermark the test sets: these tests vary what is stored
// around it, not how the writers' ack floor is read (TestWatermark).
type fixedMark struct{ v atomic.Uint64 }

func (m *fixedMark) Get(context.Context) (uint64, error) { return m.v.Load(), nil }

// readerEnv is a stream holding a few interleaved channels, and a
// database holding what each test stores of them.
type readerEnv struct {
	n  natsEnv
	d  db
	sr *stream.Reader
	// all is every message of each channel as the stream holds it, in
	// serial order.
	all map[string][]controlplane.HistoryMessage
}

func newReaderEnv(t *testing.T, chans, perChannel int) readerEnv {
	t.Helper()
	e := readerEnv{n: newNATS(t), d: newDB(t, ""), all: map[string][]controlplane.HistoryMessage{}}
	// A small batch: reads of the stream take several requests.
	sr, err := stream.NewReader(stream.ReaderConfig{NC: e.n.nc, Batch: 7, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	e.sr = sr
	for i := range chans * perChannel {
		m := stream.Message{AppID: testApp, Channel: fmt.Sprintf("chan-%d", i%chans), Event: "ev",
			Data: fmt.Appendf(nil, `{"i":%d}`, i), Source: stream.SourceAPI}
		if i%5 == 0 {
			m.UserID = "u1"
		}
		if _, _, err := e.n.pub.Publish(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		if i%chans == 0 {
			// Milliseconds apart, so that time windows cut between them:
			// the timestamps are NATS's, in real time.
			time.Sleep(2 * time.Millisecond)
		}
	}
	for c := range chans {
		ch := fmt.Sprintf("chan-%d", c)
		ds, err := sr.Range(t.Context(), testApp, ch, 0, 0, 0)
		if err != nil || len(ds) != perChannel {
			t.Fatalf("read back %s: %d messages, %v", ch, len(ds), err)
		}
		for _, d := range ds {
			e.all[ch] = append(e.all[ch], controlplane.HistoryMessage{Stream: stream.StreamName(0), Serial: d.Serial,
				AppID: d.AppID, Channel: d.Channel, Event: d.Event, Data: d.Data, UserID: d.UserID, PublishedAt: d.Time})
		}
	}
	return e
}

// newReader is a history.Reader over the env with the given watermark.
func (e readerEnv) newReader(t *testing.T, mark history.WatermarkSource, cfg history.ReaderConfig) *history.Reader {
	t.Helper()
	cfg.Store, cfg.Stream, cfg.Watermark = e.d.store, e.sr, mark
	r, err := history.NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// store writes msgs of every channel that keep(serial) selects, as the
// writers would have.
func (e readerEnv) store(t *testing.T, keep func(serial uint64) bool) {
	t.Helper()
	var msgs []controlplane.HistoryMessage
	for _, ms := range e.all {
		for _, m := range ms {
			if keep(m.Serial) {
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) == 0 {
		return
	}
	if _, err := e.d.store.WriteHistory(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
}

// pageAll pages through q the way the API does (one more than the page
// size tells whether there is a next page, which starts after the last
// serial shown) and returns every serial seen, in order.
func pageAll(t *testing.T, r history.Store, q controlplane.HistoryQuery, pageSize int) []uint64 {
	t.Helper()
	var out []uint64
	for range 10000 {
		q.Limit = pageSize + 1
		items, err := r.ListHistory(t.Context(), q)
		if err != nil {
			t.Fatalf("ListHistory(%+v): %v", q, err)
		}
		for i, m := range items {
			if i > 0 && (m.Serial <= items[i-1].Serial) != q.Backwards {
				t.Fatalf("page out of order: %v", serialsOf(items))
			}
		}
		for _, m := range items[:min(len(items), pageSize)] {
			out = append(out, m.Serial)
		}
		if len(items) <= pageSize {
			return out
		}
		q.After, q.HasAfter = items[pageSize-1].Serial, true
	}
	t.Fatal("paging did not end")
	return nil
}

func serialsOf(msgs []controlplane.HistoryMessage) []uint64 {
	out := make([]uint64, len(msgs))
	for i := range msgs {
		out[i] = msgs[i].Serial
	}
	return out
}

// within lists the serials of msgs published in [start, end] (zero: open).
func within(msgs []controlplane.HistoryMessage, start, end time.Time) []uint64 {
	var out []uint64
	for _, m := range msgs {
		t := m.PublishedAt.Truncate(time.Microsecond)
		if (start.IsZero() || !t.Before(start)) && (end.IsZero() || !t.After(end)) {
			out = append(out, m.Serial)
		}
	}
	return out
}

func reversed(s []uint64) []uint64 {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// TestReaderPagesCompletelyAcrossTheWatermark: with everything at or below
// the watermark stored and only some messages above it (batches of several
// writers committed out of order, or one a dead writer holds), every way
// of paging through a channel sees each message once, in order, with the
// same content as once stored. PostgreSQL alone shows a hole.
func TestReaderPagesCompletelyAcrossTheWatermark(t *testing.T) {
	e := newReaderEnv(t, 3, 40)
	c := e.all["chan-0"]
	mark := c[14].Serial
	e.store(t, func(s uint64) bool { return s <= mark || s%3 == 0 })
	var m fixedMark
	m.v.Store(mark)
	readers := map[string]*history.Reader{
		"":        e.newReader(t, &m, history.ReaderConfig{}),
		"strict/": e.newReader(t, &m, history.ReaderConfig{Strict: true}),
	}
	r := readers[""]

	all := serialsOf(c)
	q := controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0"}
	if got := pageAll(t, e.d.store, q, 100); slices.Equal(got, all) {
		t.Fatal("PostgreSQL alone is complete: the test stores too much")
	}
	start := c[10].PublishedAt.Truncate(time.Millisecond)
	end := c[30].PublishedAt.Truncate(time.Millisecond).Add(time.Millisecond - time.Microsecond)
	tests := []struct {
		name       string
		start, end time.Time
		after      uint64
	}{
		{name: "everything"},
		{name: "time window across the watermark", start: start, end: end},
		{name: "from a serial below the watermark", after: c[5].Serial},
		{name: "from a serial above the watermark", after: c[25].Serial},
		{name: "from a serial of another channel", after: e.all["chan-1"][20].Serial},
	}
	for mode, r := range readers {
		for _, tt := range tests {
			for _, backwards := range []bool{false, true} {
				for _, size := range []int{1, 3, 7, 40, 100} {
					t.Run(fmt.Sprintf("%s%s/backwards=%v/page=%d", mode, tt.name, backwards, size), func(t *testing.T) {
						q := controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Backwards: backwards,
							Start: tt.start, End: tt.end, After: tt.after, HasAfter: tt.after > 0}
						want := within(c, tt.start, tt.end)
						if tt.after > 0 {
							want = slices.DeleteFunc(want, func(s uint64) bool { return (s <= tt.after) != backwards || s == tt.after })
						}
						if backwards {
							want = reversed(want)
						}
						if got := pageAll(t, r, q, size); !slices.Equal(got, want) {
							t.Fatalf("got  %v\nwant %v", got, want)
						}
					})
				}
			}
		}
	}

	// A message read from the stream is the one PostgreSQL will hold.
	items, err := r.ListHistory(t.Context(), controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range items {
		want := c[i]
		want.PublishedAt = want.PublishedAt.Truncate(time.Microsecond).UTC()
		got.PublishedAt = got.PublishedAt.UTC()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("message %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestReaderWithNothingStored: right after a crash, with the watermark
// behind everything, history comes whole from the stream.
func TestReaderWithNothingStored(t *testing.T) {
	e := newReaderEnv(t, 2, 30)
	for _, strict := range []bool{false, true} {
		r := e.newReader(t, &fixedMark{}, history.ReaderConfig{Strict: strict})
		all := serialsOf(e.all["chan-1"])
		q := controlplane.HistoryQuery{AppID: testApp, Channel: "chan-1"}
		if got := pageAll(t, r, q, 4); !slices.Equal(got, all) {
			t.Fatalf("strict=%v forwards: got %v\nwant %v", strict, got, all)
		}
		q.Backwards = true
		if got := pageAll(t, r, q, 4); !slices.Equal(got, reversed(all)) {
			t.Fatalf("strict=%v backwards: got %v\nwant %v", strict, got, reversed(all))
		}
		items, err := r.ListHistory(t.Context(), controlplane.HistoryQuery{AppID: testApp, Channel: "nothing-here", Limit: 5, Backwards: true})
		if err != nil || len(items) != 0 {
			t.Fatalf("strict=%v empty channel = %v, %v", strict, serialsOf(items), err)
		}
	}
}

// TestReaderSkipsTheStreamWhenItCan: a full forward page at or below the
// watermark and a backward page that starts at or below it need nothing
// from the stream, so a stream that cannot be read does not matter.
func TestReaderSkipsTheStreamWhenItCan(t *testing.T) {
	e := newReaderEnv(t, 1, 20)
	c := e.all["chan-0"]
	mark := c[9].Serial
	e.store(t, func(s uint64) bool { return s <= mark })
	var m fixedMark
	m.v.Store(mark)
	r, err := history.NewReader(history.ReaderConfig{Store: e.d.store, Stream: failingStream{}, Watermark: &m})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if items, err := r.ListHistory(ctx, controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 5}); err != nil || len(items) != 5 {
		t.Fatalf("forwards below the watermark = %d, %v", len(items), err)
	}
	q := controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 5, Backwards: true, After: mark + 1, HasAfter: true}
	if items, err := r.ListHistory(ctx, q); err != nil || len(items) != 5 || items[0].Serial != mark {
		t.Fatalf("backwards from the watermark = %v, %v", serialsOf(items), err)
	}
	// Past the watermark the stream is needed, and its failure shows.
	_, err = r.ListHistory(ctx, controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 50})
	if !errors.Is(err, stream.ErrUnavailable) {
		t.Fatalf("forwards past the watermark with the stream down = %v, want ErrUnavailable", err)
	}
}

type failingStream struct{}

func (failingStream) Each(context.Context, string, string, uint64, uint64, func(*stream.Delivery) bool) error {
	return fmt.Errorf("each: %w", stream.ErrUnavailable)
}

func (failingStream) LeaderLast(context.Context, string, string) (uint64, error) {
	return 0, fmt.Errorf("leader last: %w", stream.ErrUnavailable)
}

// TestReaderRefusesAHoleRatherThanScanTooFar: when more unstored messages
// lie above the watermark than a read may look at, a read that needs them
// all is answered ErrBehind (503), never a page with a hole; reads that
// end early still work.
func TestReaderRefusesAHoleRatherThanScanTooFar(t *testing.T) {
	e := newReaderEnv(t, 1, 20)
	r := e.newReader(t, &fixedMark{}, history.ReaderConfig{MaxStreamScan: 10})
	ctx := t.Context()
	_, err := r.ListHistory(ctx, controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 5, Backwards: true})
	var ce *channels.Error
	if !errors.Is(err, history.ErrBehind) || !errors.As(err, &ce) || ce.Code != channels.CodeUnavailable {
		t.Fatalf("backwards over 20 unstored messages with a cap of 10 = %v, want ErrBehind", err)
	}
	items, err := r.ListHistory(ctx, controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 5})
	if err != nil || !slices.Equal(serialsOf(items), serialsOf(e.all["chan-0"][:5])) {
		t.Fatalf("forwards, 5 of them = %v, %v", serialsOf(items), err)
	}
}

// TestReaderShowsNothingOfAppsWithoutHistory: the writer stores nothing
// of an app whose history_retention_s is 0, and the stream does not show
// it either.
func TestReaderShowsNothingOfAppsWithoutHistory(t *testing.T) {
	e := newReaderEnv(t, 1, 5)
	r := e.newReader(t, &fixedMark{}, history.ReaderConfig{Apps: apps{testApp: appWithRetention(testApp, 0)}})
	items, err := r.ListHistory(t.Context(), controlplane.HistoryQuery{AppID: testApp, Channel: "chan-0", Limit: 10})
	if err != nil || len(items) != 0 {
		t.Fatalf("history of an app that keeps none = %v, %v", serialsOf(items), err)
	}
}

// TestReaderReadsYourWritesWhileTheWriterRuns: with a live writer (and
// the real watermark), every message is in the history the moment its
// publish returns, and paging forward from the start sees each message
// once, in order, however far the writer has got.
func TestReaderReadsYourWritesWhileTheWriterRuns(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	sr, err := stream.NewReader(stream.ReaderConfig{NC: n.nc, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	mark, err := history.NewWatermark(history.WatermarkConfig{JS: n.js, TTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r, err := history.NewReader(history.ReaderConfig{Store: d.store, Stream: sr, Watermark: mark})
	if err != nil {
		t.Fatal(err)
	}
	// A long batch wait keeps messages delivered and not yet stored.
	startWriter(t, history.Config{JS: n.js, Sink: d.store, MaxWait: 300 * time.Millisecond, AckWait: time.Second})
	ctx := t.Context()
	var all []uint64
	for i := range 150 {
		serial, _, err := n.pub.Publish(ctx, stream.Message{AppID: testApp, Channel: "c", Event: "ev",
			Data: fmt.Appendf(nil, "%d", i), Source: stream.SourceAPI})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, serial)
		items, err := r.ListHistory(ctx, controlplane.HistoryQuery{AppID: testApp, Channel: "c", Limit: 1, Backwards: true})
		if err != nil || len(items) != 1 || items[0].Serial != serial {
			t.Fatalf("newest right after publishing %d = %v, %v", serial, serialsOf(items), err)
		}
		if i%10 == 9 {
			if got := pageAll(t, r, controlplane.HistoryQuery{AppID: testApp, Channel: "c"}, 6); !slices.Equal(got, all) {
				t.Fatalf("paging forwards after %d publishes:\n got %v\nwant %v", i+1, got, all)
			}
		}
	}
	if c := d.count(t); c == len(all) {
		t.Log("the writer had stored everything by the end: the stream part was not needed at the last read")
	}
}

// TestWatermark: the watermark is the writers' ack floor, 0 before the
// consumer exists, reused for its TTL, and exported as a metric.
func TestWatermark(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	now := time.Unix(1000, 0)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	reg := prometheus.NewRegistry()
	mark, err := history.NewWatermark(history.WatermarkConfig{JS: n.js, TTL: time.Second, Registerer: reg,
		Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if v, err := mark.Get(ctx); err != nil || v != 0 {
		t.Fatalf("before any writer: %d, %v", v, err)
	}
	serials := publish(t, n.pub, testApp, 300, 3)
	startWriter(t, history.Config{JS: n.js, Sink: d.store, BatchSize: 50})
	testinfra.WaitUntil(t, "everything stored", func() bool { return d.count(t) == len(serials) })
	if v, _ := mark.Get(ctx); v != 0 {
		t.Fatalf("watermark %d within its TTL, want the cached 0", v)
	}
	last := serials[len(serials)-1]
	testinfra.WaitUntil(t, "the watermark at the last serial", func() bool {
		clock.Add(int64(time.Second))
		v, err := mark.Get(ctx)
		return err == nil && v == last
	})
	if g := metric(t, reg, "herald_history_stored_through_serial", "stream", stream.StreamName(0)); g != float64(last) {
		t.Errorf("stored_through_serial = %v, want %d", g, last)
	}
	// Every message at or below the watermark is stored.
	if got := d.serials(t); !slices.Equal(got, serials) {
		t.Fatal("stored serials differ from published ones")
	}
}

// clusterReads is how many publish-then-read rounds the cluster test makes:
// a follower is behind in a small share of them.
const clusterReads = 300

// TestReaderReadsYourWritesOnACluster: on a three-node cluster with an R3
// stream, read through a server that is not the stream leader, a strict
// Reader shows each message the moment its publish returns, although the
// follower that answers Direct Get may not have applied it yet.
func TestReaderReadsYourWritesOnACluster(t *testing.T) {
	c := testinfra.NATSCluster(t, 3)
	pubNC := c.Connect(t)
	js := testinfra.JetStream(t, pubNC)
	if err := stream.Ensure(t.Context(), js, stream.StreamConfig{Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	leader := -1
	testinfra.WaitUntil(t, "a stream leader", func() bool {
		leader = c.StreamLeader(stream.StreamName(0))
		return leader >= 0
	})
	// Direct Get prefers the replica on the server the request arrives at.
	follower := c.Server((leader + 1) % c.Size()).ClientURL()
	readNC, err := nats.Connect(follower, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(readNC.Close)
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js, Timeout: testTimeout, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	sr, err := stream.NewReader(stream.ReaderConfig{NC: readNC, Logger: testinfra.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	d := newDB(t, "")
	strict, err := history.NewReader(history.ReaderConfig{Store: d.store, Stream: sr, Watermark: &fixedMark{}, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	loose, err := history.NewReader(history.ReaderConfig{Store: d.store, Stream: sr, Watermark: &fixedMark{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	newest := controlplane.HistoryQuery{AppID: testApp, Channel: "c", Limit: 1, Backwards: true}
	var behind int
	for i := range clusterReads {
		serial, _, err := pub.Publish(ctx, stream.Message{AppID: testApp, Channel: "c", Event: "ev",
			Data: fmt.Appendf(nil, "%d", i), Source: stream.SourceAPI})
		if err != nil {
			t.Fatal(err)
		}
		// The strict read first: right after the publish is when the
		// follower is most likely to be behind.
		items, err := strict.ListHistory(ctx, newest)
		if err != nil || len(items) != 1 || items[0].Serial != serial {
			t.Fatalf("newest right after publishing %d = %v, %v", serial, serialsOf(items), err)
		}
		if i%2 == 0 {
			continue
		}
		// Every other publish, a plain read shows how often the follower
		// is behind.
		serial, _, err = pub.Publish(ctx, stream.Message{AppID: testApp, Channel: "c", Event: "ev",
			Data: fmt.Appendf(nil, "%d", i), Source: stream.SourceAPI})
		if err != nil {
			t.Fatal(err)
		}
		if items, err := loose.ListHistory(ctx, newest); err != nil || len(items) != 1 || items[0].Serial != serial {
			behind++
		}
	}
	t.Logf("a plain Direct Get through the follower missed the newest message %d times of %d", behind, clusterReads/2)
}

package history_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/internal/testinfra"
)

// benchData is a typical small event payload.
var benchData = bytes.Repeat([]byte("x"), 128)

// BenchmarkWriter measures how fast the writer empties a backlog of b.N
// messages (128-byte data, 100 channels) into PostgreSQL: NATS fetch,
// decode, write and ack included. Run it with a fixed count, e.g.
//
//	go test -run '^$' -bench 'Writer$' -benchtime 200000x ./controlplane/history/
//
// and with HERALD_BENCH_DURABLE_PG=1 (DurableEnv) against a durable cluster.
func BenchmarkWriter(b *testing.B) {
	benchBacklog(b, history.Config{})
}

// BenchmarkWriterConcurrency is BenchmarkWriter with 1 to 4 batches
// written at once (Config.Concurrency), what DefaultConcurrency is chosen
// from:
//
//	HERALD_BENCH_DURABLE_PG=1 go test -run '^$' -bench WriterConcurrency -benchtime 200000x ./controlplane/history/
func BenchmarkWriterConcurrency(b *testing.B) {
	for c := 1; c <= 4; c++ {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) { benchBacklog(b, history.Config{Concurrency: c}) })
	}
}

// benchBacklog times a writer configured as cfg emptying a backlog of b.N
// messages.
func benchBacklog(b *testing.B, cfg history.Config) {
	n := newNATS(b)
	d := benchDB(b)
	publishBacklog(b, n.pub, b.N)
	reg := prometheus.NewRegistry()
	cfg.JS, cfg.Sink, cfg.Registerer = n.js, d.store, reg
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	_, stop := startWriter(b, cfg)
	testinfra.WaitUntil(b, "the backlog written", func() bool {
		return metric(b, reg, "herald_history_messages_written_total") == float64(b.N)
	})
	elapsed := time.Since(start)
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

func publishBacklog(tb testing.TB, pub *stream.Publisher, total int) {
	tb.Helper()
	const chunk = 1000
	for start := 0; start < total; start += chunk {
		msgs := make([]stream.Message, 0, chunk)
		for i := start; i < min(total, start+chunk); i++ {
			msgs = append(msgs, stream.Message{AppID: testApp, Channel: fmt.Sprintf("chan-%d", i%100), Event: "ev",
				Data: benchData, Source: stream.SourceAPI})
		}
		if _, err := pub.PublishBatch(context.Background(), msgs); err != nil {
			tb.Fatal(err)
		}
	}
}

// timingSink records, for every row it writes, the time from its storage
// in the stream to the commit.
type timingSink struct {
	history.Sink
	mu     sync.Mutex
	delays []time.Duration
}

func (s *timingSink) WriteHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error) {
	n, err := s.Sink.WriteHistory(ctx, msgs)
	if err == nil {
		now := time.Now()
		s.mu.Lock()
		for _, m := range msgs {
			s.delays = append(s.delays, now.Sub(m.PublishedAt))
		}
		s.mu.Unlock()
	}
	return n, err
}

// BenchmarkLagAt1000PerSecond publishes 1,000 messages per second, in
// bursts of 10 every 10 ms (burst=10), or one every millisecond as REST
// publishes to one channel come (burst=1), for one second per iteration,
// and reports how long messages take from the stream to a commit in
// PostgreSQL, and the process's CPU and context switches per message
// (publishes, the embedded NATS server and the writer):
//
//	go test -run '^$' -bench LagAt1000 -benchtime 10x ./controlplane/history/
func BenchmarkLagAt1000PerSecond(b *testing.B) {
	for _, perTick := range []int{10, 1} {
		b.Run(fmt.Sprintf("burst=%d", perTick), func(b *testing.B) { benchLag(b, 1000, perTick) })
	}
}

// BenchmarkWriterLag is the writer's lag at a steady 5,000 messages per
// second, in bursts of 10 every 2 ms, for one second per iteration: the
// time from a message's storage in the stream (its publish) to the commit
// of its row, p50, p99 and max. With HERALD_BENCH_DURABLE_PG set
// (DurableEnv) the commits are durable:
//
//	HERALD_BENCH_DURABLE_PG=1 go test -run '^$' -bench WriterLag -benchtime 5x ./controlplane/history/
func BenchmarkWriterLag(b *testing.B) {
	benchLag(b, 5000, 10)
}

// benchLag publishes rate messages per second in bursts of perTick, paced
// on a schedule (a late burst is caught up, so the rate holds), for one
// second per iteration.
func benchLag(b *testing.B, rate, perTick int) {
	n := newNATS(b)
	d := benchDB(b)
	sink := &timingSink{Sink: d.store}
	reg := prometheus.NewRegistry()
	startWriter(b, history.Config{JS: n.js, Sink: sink, Registerer: reg})
	tick := time.Second * time.Duration(perTick) / time.Duration(rate)
	msgs := make([]stream.Message, perTick)
	for i := range msgs {
		msgs[i] = stream.Message{AppID: testApp, Channel: fmt.Sprintf("chan-%d", i), Event: "ev", Data: benchData, Source: stream.SourceAPI}
	}
	b.ResetTimer()
	cpu, switches := testinfra.ProcessCPU(b), testinfra.ContextSwitches(b)
	sent, start := 0, time.Now()
	for i := range b.N * rate / perTick {
		time.Sleep(time.Until(start.Add(time.Duration(i) * tick)))
		if _, err := n.pub.PublishBatch(context.Background(), msgs); err != nil {
			b.Fatal(err)
		}
		sent += perTick
	}
	published := time.Since(start)
	testinfra.WaitUntil(b, "every message written", func() bool {
		return metric(b, reg, "herald_history_messages_written_total") == float64(sent)
	})
	b.StopTimer()
	cpu, switches = testinfra.ProcessCPU(b)-cpu, testinfra.ContextSwitches(b)-switches
	sink.mu.Lock()
	delays := slices.Clone(sink.delays)
	sink.mu.Unlock()
	slices.Sort(delays)
	pct := func(p float64) float64 {
		return float64(delays[min(len(delays)-1, int(p*float64(len(delays))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(sent)/published.Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(sent), "cpu-ns/msg")
	b.ReportMetric(float64(switches)/float64(sent), "ctxsw/msg")
}

// BenchmarkListHistory compares one history page read from PostgreSQL
// alone (what the API did before it merged the stream) with the Reader's
// page: caught up (the stream is asked for the channel's messages above
// the watermark and has none), with 20 messages not stored yet, and with
// the real watermark (read from JetStream at most every
// DefaultWatermarkTTL), and the strict reads of a replicated stream (one
// JetStream API request more). Pages are the API's default 100 (+1), newest
// first, from 20,000 stored messages on 100 channels.
//
//	go test -run '^$' -bench ListHistory ./controlplane/history/
func BenchmarkListHistory(b *testing.B) {
	n := newNATS(b)
	d := newDB(b, "")
	publishBacklog(b, n.pub, 20000)
	reg := prometheus.NewRegistry()
	_, stop := startWriter(b, history.Config{JS: n.js, Sink: d.store, Registerer: reg})
	testinfra.WaitUntil(b, "the backlog written", func() bool { return d.count(b) == 20000 })
	stop()
	mark, err := history.NewWatermark(history.WatermarkConfig{JS: n.js})
	if err != nil {
		b.Fatal(err)
	}
	var stored fixedMark
	v, err := mark.Get(context.Background())
	if err != nil || v == 0 {
		b.Fatalf("watermark %d, %v", v, err)
	}
	stored.v.Store(v)
	// 20 more on chan-0 that no writer stores.
	for range 20 {
		if _, _, err := n.pub.Publish(context.Background(), stream.Message{AppID: testApp, Channel: "chan-0",
			Event: "ev", Data: benchData, Source: stream.SourceAPI}); err != nil {
			b.Fatal(err)
		}
	}
	sr, err := stream.NewReader(stream.ReaderConfig{NC: n.nc})
	if err != nil {
		b.Fatal(err)
	}
	newReader := func(m history.WatermarkSource, strict ...bool) *history.Reader {
		r, err := history.NewReader(history.ReaderConfig{Store: d.store, Stream: sr, Watermark: m, Strict: len(strict) > 0})
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	page := func(ch string) controlplane.HistoryQuery {
		return controlplane.HistoryQuery{AppID: testApp, Channel: ch, Backwards: true,
			Limit: controlplane.DefaultHistoryLimit + 1}
	}
	cases := []struct {
		name  string
		store history.Store
		q     controlplane.HistoryQuery
		want  int
	}{
		{"postgres only", d.store, page("chan-1"), 101},
		{"merged caught up", newReader(&stored), page("chan-1"), 101},
		{"merged 20 unstored", newReader(&stored), page("chan-0"), 101},
		{"merged real watermark", newReader(mark), page("chan-0"), 101},
		{"strict caught up", newReader(&stored, true), page("chan-1"), 101},
		{"strict 20 unstored", newReader(&stored, true), page("chan-0"), 101},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				items, err := c.store.ListHistory(context.Background(), c.q)
				if err != nil || len(items) != c.want {
					b.Fatalf("%d items, %v", len(items), err)
				}
			}
		})
	}
}

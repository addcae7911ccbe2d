package billing_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/meter"
)

// countingStore counts what the aggregator asks Postgres to write.
type countingStore struct {
	billing.Store
	flushes, rows, txs atomic.Int64
}

func (s *countingStore) FoldFlushes(ctx context.Context, flushes []billing.Flush) (int, error) {
	n, err := s.Store.FoldFlushes(ctx, flushes)
	if err == nil {
		s.txs.Add(1)
		s.flushes.Add(int64(n))
		s.rows.Add(int64(len(billing.SumRows(func(yield func(string, time.Time, billing.Counters)) {
			for _, f := range flushes {
				for _, a := range f.Apps {
					yield(a.AppID, f.Minute, a.Counters)
				}
			}
		}))))
	}
	return n, err
}

// BenchmarkAggregator folds synthetic flushes of 100 gateways, each
// counting the same apps, through NATS into Postgres: one operation is
// one round of flushes (one per gateway). It reports the flushes folded
// per second and the usage rows written per transaction and per second;
// at the default 5 s interval 100 gateways make 20 flushes/s.
func BenchmarkAggregator(b *testing.B) {
	const gateways = 100
	for _, apps := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("gateways=%d/apps=%d", gateways, apps), func(b *testing.B) {
			e := newFoldEnv(b)
			ctx := context.Background()
			if err := meter.EnsureStream(ctx, e.js, meter.StreamConfig{}); err != nil {
				b.Fatal(err)
			}
			store := &countingStore{Store: e.store}
			a, err := billing.NewAggregator(billing.AggregatorConfig{JS: e.js, Store: store, Wait: 20 * time.Millisecond})
			if err != nil {
				b.Fatal(err)
			}
			runInBackground(b, a.Run)
			minute := time.Now().UTC().Truncate(time.Minute)
			usage := make([]billing.AppUsage, apps)
			for i := range usage {
				usage[i] = billing.AppUsage{AppID: fmt.Sprintf("app-%d", i), Counters: billing.Counters{
					MessagesDelivered: 100, PresenceEvents: 3, BytesOut: 12345, ConnectionSeconds: 50, PeakConnections: 10,
				}}
			}
			seq := 0
			b.ResetTimer()
			for b.Loop() {
				for g := range gateways {
					seq++
					id := fmt.Sprintf("gw%d.n.%d", g, seq)
					payload, err := billing.EncodeFlush(billing.Flush{ID: id, Minute: minute, Apps: usage})
					if err != nil {
						b.Fatal(err)
					}
					if err := meter.Publish(ctx, e.js, fmt.Sprintf("gw%d", g), id, payload); err != nil {
						b.Fatal(err)
					}
				}
			}
			deadline := time.Now().Add(time.Minute)
			for store.flushes.Load() < int64(seq) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			if got := store.flushes.Load(); got != int64(seq) {
				b.Fatalf("folded %d flushes; want %d", got, seq)
			}
			sec := b.Elapsed().Seconds()
			b.ReportMetric(float64(seq)/sec, "flushes/s")
			b.ReportMetric(float64(store.rows.Load())/sec, "rows/s")
			b.ReportMetric(float64(store.rows.Load())/float64(store.txs.Load()), "rows/tx")
		})
	}
}

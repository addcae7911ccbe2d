package billing

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Many goroutines counting one app's meter while flushes take deltas
// lose and double nothing.
func TestMeterConcurrentCounts(t *testing.T) {
	m := NewMeter(nil)
	const goroutines, each = 8, 10000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			a := m.App("app") // looked up once, as a connection does
			shard := a.Shard()
			for range each {
				shard.Delivered(1, 10)
				shard.Presence(1)
				a.APIRequest()
				a.HistoryReads(2)
				a.WebhookCall()
			}
		})
	}
	var total Counters
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-done:
				return
			default:
			}
			for _, u := range m.take(nil, flushTag{}) {
				total.Add(u.Counters)
			}
		}
	}()
	wg.Wait()
	done <- struct{}{}
	<-done
	for _, u := range m.take(nil, flushTag{}) {
		total.Add(u.Counters)
	}
	n := int64(goroutines * each)
	want := Counters{MessagesDelivered: n, BytesOut: 10 * n, PresenceEvents: n, APIRequests: n, HistoryReads: 2 * n, WebhookCalls: n}
	if total != want {
		t.Fatalf("counted %+v; want %+v", total, want)
	}
}

// A nil Meter (metering off) hands out nil AppMeters that count nothing.
func TestMeterOff(t *testing.T) {
	var m *Meter
	a := m.App("app")
	a.Delivered(1, 1)
	a.Presence(1)
	a.APIRequest()
	a.HistoryReads(1)
	a.WebhookCall()
	a.Opened()
	a.Closed()
	if a != nil {
		t.Fatal("a nil Meter returned an AppMeter")
	}
	s := a.Shard()
	s.Delivered(1, 1)
	s.Presence(1)
	s.App().Opened()
	if s != nil {
		t.Fatal("a nil AppMeter returned a shard")
	}
}

// Connections take the shards in turn, so that a fan-out's writers add to
// different cache lines; each shard counts for its app, and Unflushed
// sums them all.
func TestMeterShardsSpreadAndSum(t *testing.T) {
	a := NewMeter(nil).App("app")
	seen := map[*MeterShard]bool{}
	for i := range meterShards {
		s := a.Shard()
		if s.App() != a {
			t.Fatalf("shard %d belongs to another app", i)
		}
		seen[s] = true
		s.Delivered(int64(i+1), 1)
	}
	if len(seen) != meterShards {
		t.Fatalf("%d connections got %d shards; want one each", meterShards, len(seen))
	}
	want := int64(meterShards * (meterShards + 1) / 2)
	if got := a.Unflushed(); got != want {
		t.Fatalf("Unflushed = %d; want %d", got, want)
	}
	c, _ := a.take(flushTag{})
	if c.MessagesDelivered != want || c.BytesOut != meterShards || a.Unflushed() != 0 {
		t.Fatalf("take = %+v, then %d unflushed", c, a.Unflushed())
	}
}

// Connection time is exact to the second over flushes: connections
// opened and closed inside an interval count their part of it, and the
// sub-second remainders carry over.
func TestConnectionSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMeter(nil)
		a := m.App("app")
		a.Opened() // A: open the whole time
		time.Sleep(1500 * time.Millisecond)
		a.Opened() // B: from 1.5s
		time.Sleep(2 * time.Second)
		a.Closed() // B closes at 3.5s: 2s
		time.Sleep(1700 * time.Millisecond)
		// At 5.2s: A 5.2s + B 2s = 7.2s.
		u := m.take(nil, flushTag{})
		if len(u) != 1 || u[0].Counters.ConnectionSeconds != 7 || u[0].Counters.PeakConnections != 2 {
			t.Fatalf("first flush %+v; want 7 connection seconds, peak 2", u)
		}
		time.Sleep(4800 * time.Millisecond)
		a.Closed() // A closes at 10s
		// A's 4.8s plus the 0.2s carried: 5s.
		u = m.take(nil, flushTag{})
		if len(u) != 1 || u[0].Counters.ConnectionSeconds != 5 || u[0].Counters.PeakConnections != 1 {
			t.Fatalf("second flush %+v; want 5 connection seconds, peak 1 (A until it closed)", u)
		}
		if u := m.take(nil, flushTag{}); len(u) != 0 {
			t.Fatalf("idle flush %+v; want nothing", u)
		}
	})
}

// The peak counts connections that opened and closed between two
// flushes (found by probing: bursts of short connections showed a peak
// of 0), and the next interval starts from the connections still open.
func TestPeakBetweenFlushes(t *testing.T) {
	m := NewMeter(nil)
	a := m.App("app")
	for range 3 {
		for range 6 {
			a.Opened()
		}
		for range 6 {
			a.Closed()
		}
	}
	a.Opened()
	u := m.take(nil, flushTag{})
	if len(u) != 1 || u[0].Counters.PeakConnections != 6 {
		t.Fatalf("flush after bursts of 6: %+v; want peak 6", u)
	}
	u = m.take(nil, flushTag{})
	if len(u) != 1 || u[0].Counters.PeakConnections != 1 {
		t.Fatalf("next flush: %+v; want peak 1, the connection still open", u)
	}
	a.Closed()
	m.take(nil, flushTag{})
	if u := m.take(nil, flushTag{}); len(u) != 0 {
		t.Fatalf("idle flush %+v; want nothing", u)
	}
}

// The peak is the cluster-wide sample at the flush, from this process's
// peak.
func TestPeakSample(t *testing.T) {
	m := NewMeter(nil)
	a := m.App("app")
	a.Opened()
	a.Opened()
	u := m.take(func(appID string, local int64) int64 { return local + 5 }, flushTag{})
	if len(u) != 1 || u[0].Counters.PeakConnections != 7 {
		t.Fatalf("flush %+v; want peak 7", u)
	}
}

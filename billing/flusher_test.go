package billing

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestNextFlush(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct{ from, want string }{
		{"2026-03-01T10:00:00Z", "2026-03-01T10:00:05Z"},
		{"2026-03-01T10:00:57Z", "2026-03-01T10:01:00Z"},
		{"2026-03-01T10:00:55Z", "2026-03-01T10:01:00Z"},
		{"2026-03-01T23:59:59.5Z", "2026-03-02T00:00:00Z"},
	}
	for _, tc := range tests {
		if got := nextFlush(at(tc.from), 5*time.Second); !got.Equal(at(tc.want)) {
			t.Errorf("nextFlush(%s) = %s; want %s", tc.from, got, tc.want)
		}
	}
}

// publisher records flushes and fails while told to.
type publisher struct {
	mu       sync.Mutex
	fail     bool
	attempts []string
	stored   map[string][]byte
	order    []Flush
}

func (p *publisher) publish(_ context.Context, id string, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.attempts = append(p.attempts, id)
	if p.fail {
		return errors.New("nats down")
	}
	if prev, ok := p.stored[id]; ok {
		if string(prev) != string(payload) {
			return errors.New("same id, other payload")
		}
		return nil
	}
	p.stored[id] = payload
	f, err := DecodeFlush(payload)
	if err != nil {
		return err
	}
	p.order = append(p.order, f)
	return nil
}

func newTestFlusher(t *testing.T, m *Meter, p *publisher) *Flusher {
	t.Helper()
	f, err := NewFlusher(FlusherConfig{Meter: m, Process: "gw1", Publish: p.publish, Interval: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A flush that fails is published again with the same id and payload;
// what is counted meanwhile goes out in later flushes; nothing is lost or
// counted twice.
func TestFlushRetrySameID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMeter(nil)
		p := &publisher{stored: map[string][]byte{}, fail: true}
		f := newTestFlusher(t, m, p)
		ctx := context.Background()
		a := m.App("app")
		a.Delivered(3, 30)
		if err := f.Flush(ctx); err == nil {
			t.Fatal("flush succeeded with NATS down")
		}
		a.Delivered(4, 40)
		time.Sleep(time.Second)
		if err := f.Flush(ctx); err == nil {
			t.Fatal("flush succeeded with NATS down")
		}
		p.mu.Lock()
		p.fail = false
		p.mu.Unlock()
		a.Delivered(5, 50)
		if err := f.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		// The first flush was tried three times under one id.
		if p.attempts[0] != p.attempts[1] || p.attempts[1] != p.attempts[2] {
			t.Errorf("attempts %v: the first flush changed its id", p.attempts)
		}
		var total Counters
		for _, fl := range p.order {
			for _, u := range fl.Apps {
				total.Add(u.Counters)
			}
		}
		if total.MessagesDelivered != 12 || total.BytesOut != 120 {
			t.Errorf("published %+v; want 12 delivered, 120 bytes", total)
		}
		if len(p.order) != 3 {
			t.Errorf("published %d flushes; want 3", len(p.order))
		}
	})
}

// Run flushes every interval and at every minute boundary, each flush in
// the minute its interval started.
func TestRunAlignsToMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// synctest's clock starts at midnight UTC, 2000-01-01.
		time.Sleep(57 * time.Second)
		m := NewMeter(nil)
		p := &publisher{stored: map[string][]byte{}}
		f := newTestFlusher(t, m, p)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); f.Run(ctx) }()
		a := m.App("app")
		a.Delivered(1, 1) // at :57, flushed at 1:00 in minute 0:00
		time.Sleep(3*time.Second + time.Millisecond)
		synctest.Wait()
		a.Delivered(2, 2) // at 1:00, flushed at 1:05 in minute 0:01
		time.Sleep(5 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		if len(p.order) != 2 {
			t.Fatalf("flushes %+v; want 2", p.order)
		}
		base := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, want := range []time.Time{base, base.Add(time.Minute)} {
			if !p.order[i].Minute.Equal(want) || p.order[i].Apps[0].Counters.MessagesDelivered != int64(i+1) {
				t.Errorf("flush %d: %+v; want minute %s, %d delivered", i, p.order[i], want, i+1)
			}
		}
	})
}

// A full queue keeps the deltas in the counters instead of dropping them.
func TestFlushQueueFull(t *testing.T) {
	m := NewMeter(nil)
	p := &publisher{stored: map[string][]byte{}, fail: true}
	f, err := NewFlusher(FlusherConfig{Meter: m, Process: "gw1", Publish: p.publish, MaxQueued: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := m.App("app")
	a.Delivered(1, 1)
	_ = f.Flush(context.Background())
	a.Delivered(1, 1)
	_ = f.Flush(context.Background())
	if got := a.Unflushed(); got != 1 {
		t.Fatalf("unflushed %d; want 1 kept in the counters", got)
	}
	p.fail = false
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(p.order) != 2 {
		t.Fatalf("published %d flushes; want 2", len(p.order))
	}
}

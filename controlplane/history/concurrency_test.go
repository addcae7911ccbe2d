package history_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/controlplane/history"
	"github.com/heraldhq/herald/internal/testinfra"
)

// heldSink holds back the write of the batch holding serial first until
// release is closed, so that the batches after it commit before it, and
// records every committed serial.
type heldSink struct {
	history.Sink
	first   uint64
	release chan struct{}

	mu        sync.Mutex
	committed map[uint64]int
}

func (s *heldSink) WriteHistory(ctx context.Context, msgs []controlplane.HistoryMessage) (int64, error) {
	if slices.ContainsFunc(msgs, func(m controlplane.HistoryMessage) bool { return m.Serial == s.first }) {
		select {
		case <-s.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	n, err := s.Sink.WriteHistory(ctx, msgs)
	if err == nil {
		s.mu.Lock()
		for _, m := range msgs {
			s.committed[m.Serial]++
		}
		s.mu.Unlock()
	}
	return n, err
}

// storedThrough reports whether every serial up to mark is committed.
func (s *heldSink) storedThrough(mark uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for serial := uint64(1); serial <= mark; serial++ {
		if s.committed[serial] == 0 {
			return false
		}
	}
	return true
}

func (s *heldSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.committed)
}

// TestWriterLoopsCommitOutOfOrder: a writer's loops commit batches in any
// order; every message is still stored exactly once, and the watermark
// never passes a message that is not committed: while the first batch is
// held back and the later ones commit, it stays below it.
func TestWriterLoopsCommitOutOfOrder(t *testing.T) {
	n := newNATS(t)
	d := newDB(t, "")
	want := publish(t, n.pub, testApp, 2000, 10)
	sink := &heldSink{Sink: d.store, first: want[0], release: make(chan struct{}), committed: map[uint64]int{}}
	reg := prometheus.NewRegistry()
	startWriter(t, history.Config{JS: n.js, Sink: sink, Registerer: reg, Concurrency: 4, BatchSize: 50})
	mark, err := history.NewWatermark(history.WatermarkConfig{JS: n.js, TTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}

	// The invariant, checked over and over until the end of the test: the
	// watermark is read before the commits are looked at, and commits only
	// add serials.
	ctx, cancel := context.WithCancel(t.Context())
	var checker sync.WaitGroup
	checker.Go(func() {
		for ctx.Err() == nil {
			if v, err := mark.Get(ctx); err == nil && !sink.storedThrough(v) {
				t.Errorf("watermark %d passes a message not committed", v)
				return
			}
			time.Sleep(pollInterval)
		}
	})
	defer func() { cancel(); checker.Wait() }()

	testinfra.WaitUntil(t, "later batches committed before the first", func() bool { return sink.count() >= 500 })
	if v, err := mark.Get(t.Context()); err != nil || v >= want[0] {
		t.Errorf("watermark %d (%v) while the batch of serial %d is held", v, err, want[0])
	}
	if lag := metric(t, reg, "herald_history_lag_seconds"); lag == 0 {
		t.Error("no lag while the first batch is held")
	}
	close(sink.release)
	testinfra.WaitUntil(t, "every message stored", func() bool { return d.count(t) == len(want) })
	if got := d.serials(t); !slices.Equal(got, want) {
		t.Fatal("stored serials differ from published ones")
	}
	testinfra.WaitUntil(t, "the watermark at the last message", func() bool {
		v, err := mark.Get(t.Context())
		return err == nil && v == want[len(want)-1]
	})
	testinfra.WaitUntil(t, "lag and pending back to 0", func() bool {
		return metric(t, reg, "herald_history_lag_seconds") == 0 && metric(t, reg, "herald_history_pending_messages") == 0
	})
	if dup := metric(t, reg, "herald_history_messages_duplicate_total"); dup != 0 {
		t.Errorf("%v messages written twice", dup)
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	for serial, times := range sink.committed {
		if times != 1 {
			t.Errorf("serial %d committed %d times", serial, times)
		}
	}
}

// TestNewWriterRefusesMoreThanMaxAckPending: loops whose batches together
// exceed what the consumer lets be pending would only wait.
func TestNewWriterRefusesMoreThanMaxAckPending(t *testing.T) {
	n := newNATS(t)
	_, err := history.NewWriter(history.Config{JS: n.js, Sink: newDB(t, "").store, Concurrency: 3, BatchSize: 100, MaxAckPending: 250})
	if err == nil {
		t.Fatal("no error for 3 batches of 100 with 250 pending at most")
	}
}

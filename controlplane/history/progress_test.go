package history

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestProgressWithBatchesCommittedOutOfOrder: the lag follows the oldest
// batch still in flight, whatever order the loops commit in, and the
// pending count holds every message fetched and not committed.
func TestProgressWithBatchesCommittedOutOfOrder(t *testing.T) {
	m, err := newWriterMetrics(nil, "s", time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p := newProgress(m)
	at := func(s int) time.Time { return time.Unix(1000+int64(s), 0) }
	check := func(step string, oldest time.Time, pending float64) {
		t.Helper()
		want := int64(0)
		if !oldest.IsZero() {
			want = oldest.UnixNano()
		}
		if got := m.oldest.Load(); got != want {
			t.Errorf("%s: oldest = %v, want %v", step, time.Unix(0, got), oldest)
		}
		if got := testutil.ToFloat64(m.pending); got != pending {
			t.Errorf("%s: pending = %v, want %v", step, got, pending)
		}
	}
	b1 := p.fetched(10, at(1), at(10), 30)
	check("first batch fetched", at(1), 40)
	b2 := p.fetched(10, at(11), at(20), 20)
	b3 := p.fetched(10, at(21), at(30), 10)
	check("three batches fetched", at(1), 40)
	p.done(b3)
	p.done(b2)
	check("the later two committed first", at(1), 20)
	p.done(b1)
	check("all three committed", at(30), 10)
	b4 := p.fetched(10, at(31), at(40), 0)
	check("the last batch fetched", at(31), 10)
	p.caughtUp()
	check("an empty fetch while it is in flight", at(31), 10)
	p.done(b4)
	check("caught up", time.Time{}, 0)
}

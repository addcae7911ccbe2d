package billing

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
)

// oneTotals is a TotalsSource of one account's entry.
type oneTotals struct{ e *quota.Entry }

func (o *oneTotals) Totals(string) (*quota.Entry, bool) { return o.e, o.e != nil }

// Deliveries count toward the account's quota while they wait in the
// counters, once a flush has taken them, and once the totals hold them;
// never in none of the three, never in two (docs/billing.md, "Overshoot
// bound").
func TestEnforcerCountsFlushedDeliveriesUntilFolded(t *testing.T) {
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	m := NewMeter(clock)
	src := &oneTotals{}
	e, err := NewEnforcer(EnforcerConfig{Totals: src, Meter: m, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	p := &publisher{stored: map[string][]byte{}}
	f := newTestFlusher(t, m, p)
	app := &channels.AppConfig{ID: "app", AccountID: "acc",
		Quota: channels.Quota{Enforcement: channels.EnforceHard, MaxMessagesPerDay: 10}}
	passes := func() bool {
		v, r := e.CheckPublish(app, 1)
		r.Release()
		return !v.Refused
	}
	if !passes() {
		t.Fatal("an account with nothing used refused")
	}
	m.App("app").Delivered(10, 100)
	if passes() {
		t.Fatal("10 deliveries in the counters: a publish passed a quota of 10")
	}
	if err := f.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.App("app").Unflushed() != 0 {
		t.Fatal("the flush left deliveries in the counters")
	}
	if passes() {
		t.Fatal("10 deliveries flushed and not folded: a publish passed a quota of 10")
	}
	source, seq, ok := ParseFlushID(p.order[0].ID)
	if !ok || seq != 1 {
		t.Fatalf("flush id %q: source %q, seq %d", p.order[0].ID, source, seq)
	}
	entry := quota.Entry{Day: Day.Start(now), Month: Month.Start(now)}
	// Totals that do not hold the flush (another source's marks only).
	stale := entry
	stale.Flushes = map[string]uint64{"gw2.0": 7}
	src.e = &stale
	if passes() {
		t.Fatal("totals without the flush: a publish passed")
	}
	// Totals that hold it count it once: 10, not 20.
	folded := entry
	folded.DayMessages, folded.MonthMessages = 10, 10
	folded.Flushes = map[string]uint64{source: 1}
	src.e = &folded
	if passes() {
		t.Fatal("totals holding the flush: a publish passed")
	}
	app.Quota.MaxMessagesPerDay = 11
	if !passes() {
		t.Fatal("the flush counted twice, in the totals and in the meter")
	}
}

// An app keeps at most maxUnfolded records: past it, a flush joins the
// newest record, which then goes with the later flush only.
func TestUnfoldedBounded(t *testing.T) {
	a := NewMeter(nil).App("app")
	p := periodKeys{day: 1, month: 1}
	for seq := uint64(1); seq <= maxUnfolded+10; seq++ {
		a.Shard0().Delivered(1, 1)
		a.take(flushTag{source: "s", seq: seq, p: p})
	}
	if len(a.unfolded) != maxUnfolded {
		t.Fatalf("%d records; want %d", len(a.unfolded), maxUnfolded)
	}
	if _, d, _ := a.quotaUse(nil, p); d != maxUnfolded+10 {
		t.Fatalf("day %d; want every flush, %d", d, maxUnfolded+10)
	}
	if _, d, _ := a.quotaUse(map[string]uint64{"s": maxUnfolded + 9}, p); d != 11 {
		t.Fatalf("day %d; want the merged record's 11 kept until its last flush is folded", d)
	}
	if _, d, _ := a.quotaUse(map[string]uint64{"s": maxUnfolded + 10}, p); d != 0 || len(a.unfolded) != 0 {
		t.Fatalf("day %d, %d records; want none once every flush is folded", d, len(a.unfolded))
	}
}

// A flusher idle for flushSourceIdle starts a new source, sequences from
// 1, and the meter forgets the records of the old one.
func TestFlushSourceRotatesWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewMeter(nil)
		p := &publisher{stored: map[string][]byte{}}
		f := newTestFlusher(t, m, p)
		a := m.App("app")
		for range 2 {
			a.Delivered(1, 1)
			if err := f.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(flushSourceIdle)
		if err := f.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if len(a.unfolded) != 0 {
			t.Fatalf("records of the idle source kept: %+v", a.unfolded)
		}
		a.Delivered(1, 1)
		if err := f.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		old, seq1, _ := ParseFlushID(p.order[1].ID)
		fresh, seq2, _ := ParseFlushID(p.order[2].ID)
		if seq1 != 2 || seq2 != 1 || old == fresh {
			t.Fatalf("flushes %s then %s; want a new source from sequence 1", p.order[1].ID, p.order[2].ID)
		}
	})
}

func TestParseFlushID(t *testing.T) {
	for id, want := range map[string]struct {
		source string
		seq    uint64
		ok     bool
	}{
		"gateway-ab12.00ff.7": {"gateway-ab12.00ff", 7, true},
		"a.b.1":               {"a.b", 1, true},
		"a.b.0":               {ok: false},
		"a.b.x":               {ok: false},
		"nodot":               {ok: false},
		".5":                  {ok: false},
	} {
		source, seq, ok := ParseFlushID(id)
		if ok != want.ok || ok && (source != want.source || seq != want.seq) {
			t.Errorf("ParseFlushID(%q) = %q, %d, %v; want %+v", id, source, seq, ok, want)
		}
	}
}

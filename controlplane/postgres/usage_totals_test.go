package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
)

// An account's totals sum its apps' messages (published, delivered,
// presence, webhook calls) of the day and the month, and carry the marks
// of the published count.
func TestAccountTotals(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acme, other := f.account(t, "Acme"), f.account(t, "Other")
	f.app(t, acme.ID, "app1")
	f.app(t, acme.ID, "app2")
	f.app(t, other.ID, "app3")
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	earlier := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	if _, err := f.store.FoldFlushes(ctx, []billing.Flush{
		{ID: "gw.n.1", Minute: now.Truncate(time.Minute), Apps: []billing.AppUsage{
			{AppID: "app1", Counters: billing.Counters{MessagesDelivered: 10, PresenceEvents: 2, APIRequests: 99}},
			{AppID: "app3", Counters: billing.Counters{MessagesDelivered: 1000}},
		}},
		{ID: "gw.n.2", Minute: earlier, Apps: []billing.AppUsage{
			{AppID: "app2", Counters: billing.Counters{WebhookCalls: 3, MessagesDelivered: 4}},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.FoldPublished(ctx, "HERALD_MSG", []billing.Published{
		{Serial: 1, AppID: "app2", At: now, Bytes: 5},
		{Serial: 2, AppID: "app1", At: now, Bytes: 5},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := f.store.AccountTotals(ctx, []string{"app1", "app2", "gone"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("totals of %d accounts, want 1 (Acme): %+v", len(got), got)
	}
	g := got[0]
	// Day: 10 + 2 delivered/presence, 2 published; month adds 7 of March 2.
	if g.AccountID != acme.ID || g.DayMessages != 14 || g.MonthMessages != 21 {
		t.Errorf("totals = %s %d/%d; want %s 14/21", g.AccountID, g.DayMessages, g.MonthMessages, acme.ID)
	}
	if !g.Day.Equal(billing.Day.Start(now)) || !g.Month.Equal(billing.Month.Start(now)) {
		t.Errorf("periods = %v %v", g.Day, g.Month)
	}
	if g.Marks["HERALD_MSG"] != 2 {
		t.Errorf("marks = %v; want HERALD_MSG at 2", g.Marks)
	}
	if g.Flushes["gw.n"] != 2 || len(g.Flushes) != 1 {
		t.Errorf("flush marks = %v; want gw.n at 2", g.Flushes)
	}
	// An account with nothing counted yet has zero totals.
	f.app(t, acme.ID, "app4")
	fresh := f.account(t, "Fresh")
	f.app(t, fresh.ID, "app5")
	got, err = f.store.AccountTotals(ctx, []string{"app5"}, now.AddDate(0, 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].AccountID != fresh.ID || got[0].DayMessages != 0 || got[0].MonthMessages != 0 {
		t.Errorf("fresh account totals = %+v", got)
	}
}

// A source's flush mark moves over every folded flush that follows it,
// and waits at a gap until the flush in it is folded, whichever order
// the folds commit in (several control planes folding one source).
func TestFlushMarksOutOfOrder(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acct := f.account(t, "Acme")
	f.app(t, acct.ID, "app1")
	now := time.Date(2026, 3, 15, 12, 0, 0, 0, time.UTC)
	flush := func(seq int) billing.Flush {
		return billing.Flush{ID: fmt.Sprintf("gw-1.abc.%d", seq), Minute: now.Truncate(time.Minute),
			Apps: []billing.AppUsage{{AppID: "app1", Counters: billing.Counters{MessagesDelivered: 1}}}}
	}
	mark := func() uint64 {
		t.Helper()
		got, err := f.store.AccountTotals(ctx, []string{"app1"}, now)
		if err != nil || len(got) != 1 {
			t.Fatalf("totals: %+v, %v", got, err)
		}
		return got[0].Flushes["gw-1.abc"]
	}
	fold := func(seqs ...int) {
		t.Helper()
		var fl []billing.Flush
		for _, s := range seqs {
			fl = append(fl, flush(s))
		}
		if _, err := f.store.FoldFlushes(ctx, fl); err != nil {
			t.Fatal(err)
		}
	}
	fold(1, 3)
	if m := mark(); m != 1 {
		t.Fatalf("after 1 and 3: mark %d; want 1", m)
	}
	fold(4)
	if m := mark(); m != 1 {
		t.Fatalf("after 4: mark %d; want 1 (2 is missing)", m)
	}
	fold(2, 3) // 3 again: folded once
	if m := mark(); m != 4 {
		t.Fatalf("after 2: mark %d; want 4", m)
	}
	// Folders racing over the next flushes, each in its own order.
	total := race(t, 4, func(w int) (int, error) {
		var fl []billing.Flush
		for i := range 20 {
			fl = append(fl, flush(5+(i+5*w)%20))
		}
		return f.store.FoldFlushes(ctx, fl)
	})
	if total != 20 || mark() != 24 {
		t.Fatalf("racing folds folded %d, mark %d; want 20 and 24", total, mark())
	}
	f.wantUsage(t, "app1", now, billing.Counters{MessagesDelivered: 24})
}

package postgres_test

import (
	"context"
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

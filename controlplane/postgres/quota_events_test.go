package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// A quota event is recorded once however many control planes report it,
// with one audit entry named by its level, and its quota_exceeded rows
// (past the limit, not at it) are the spans the account was over quota.
func TestRecordQuotaEventOnce(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	acct := f.account(t, "Acme")
	day := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	at := day.Add(10 * time.Hour)
	ev := billing.QuotaEvent{AccountID: acct.ID, Quota: billing.QuotaMessagesPerDay.String(), Event: channels.WebhookQuotaExceeded,
		Threshold: 100, Enforcement: "soft", Period: day, Limit: 10, Used: 12, At: at}
	recorded := race(t, 4, func(int) (int, error) {
		ok, err := f.store.RecordQuotaEvent(ctx, ev)
		if ok {
			return 1, err
		}
		return 0, err
	})
	if recorded != 1 {
		t.Fatalf("recorded %d times; want 1", recorded)
	}
	ev80 := ev
	ev80.Event, ev80.Threshold, ev80.Used = channels.WebhookQuotaWarning, 80, 8
	reached := ev
	reached.Event, reached.Used, reached.At = channels.WebhookQuotaReached, 10, day.Add(time.Hour)
	for _, e := range []billing.QuotaEvent{ev80, reached} {
		if ok, err := f.store.RecordQuotaEvent(ctx, e); err != nil || !ok {
			t.Fatalf("%s event: %v %v", e.Event, ok, err)
		}
	}
	entries, _, err := f.store.ListAudit(ctx, controlplane.Page{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	actions := map[string]int{}
	for _, e := range entries {
		if e.Target == acct.ID {
			actions[e.Action]++
		}
	}
	if actions["quota.exceeded"] != 1 || actions["quota.reached"] != 1 || actions["quota.threshold_crossed"] != 1 {
		t.Errorf("audit actions = %v; want one quota.exceeded, one quota.reached and one quota.threshold_crossed", actions)
	}
	spans, err := f.store.OverQuota(ctx, acct.ID, day.AddDate(0, 0, -1), day.AddDate(0, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 1 || !spans[0].From.Equal(at) || !spans[0].To.Equal(day.AddDate(0, 0, 1)) {
		t.Errorf("spans = %+v; want [%v, %v)", spans, at, day.AddDate(0, 0, 1))
	}
	if spans, _ := f.store.OverQuota(ctx, acct.ID, day.AddDate(0, 0, 1), day.AddDate(0, 0, 2)); len(spans) != 0 {
		t.Errorf("spans of the next day = %+v; want none", spans)
	}
}

// TestQuotaWebhookOutbox: a recorded crossing waits, with its plan and
// enforcement, until it is marked stored for operator webhooks; crossings
// recorded once are pending once.
func TestQuotaWebhookOutbox(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	acct := f.account(t, "Acme")
	day := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	ev := billing.QuotaEvent{AccountID: acct.ID, Plan: "starter", Quota: billing.QuotaMessagesPerDay.String(),
		Event: channels.WebhookQuotaWarning, Threshold: 80, Enforcement: "soft", Period: day, Limit: 10, Used: 8, At: day.Add(time.Hour)}
	ev100 := ev
	ev100.Event, ev100.Threshold, ev100.Used, ev100.At = channels.WebhookQuotaReached, 100, 10, day.Add(2*time.Hour)
	for _, e := range []billing.QuotaEvent{ev, ev100, ev} {
		if _, err := f.store.RecordQuotaEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := f.store.PendingQuotaWebhooks(ctx, 10)
	if err != nil || len(pending) != 2 || pending[0] != ev || pending[1] != ev100 {
		t.Fatalf("pending = %+v, %v; want the 80%% then the 100%% event", pending, err)
	}
	if one, _ := f.store.PendingQuotaWebhooks(ctx, 1); len(one) != 1 || one[0] != ev {
		t.Fatalf("pending, limit 1 = %+v", one)
	}
	if err := f.store.QuotaWebhookPublished(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if pending, _ := f.store.PendingQuotaWebhooks(ctx, 10); len(pending) != 1 || pending[0] != ev100 {
		t.Fatalf("pending after marking the 80%% event = %+v", pending)
	}
}

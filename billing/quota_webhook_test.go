package billing_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
)

func TestQuotaWebhookEvent(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	base := billing.QuotaEvent{AccountID: "acc_1", Plan: "starter", Quota: "max_messages_per_day", Enforcement: "soft",
		Period: day, Limit: 1000, At: day.Add(time.Hour)}
	cases := []struct {
		event     channels.WebhookEventName
		threshold int
		used      int64
		body      string
		msgID     string
	}{
		{channels.WebhookQuotaWarning, 80, 800, `{"name":"quota_warning","account_id":"acc_1","plan":"starter","quota":"max_messages_per_day","threshold":80,"enforcement":"soft","period":"2026-12-06T00:00:00Z","limit":1000,"used":800}`,
			"quota:acc_1:max_messages_per_day:quota_warning:2026-12-06T00:00:00Z"},
		{channels.WebhookQuotaReached, 100, 1000, `{"name":"quota_reached","account_id":"acc_1","plan":"starter","quota":"max_messages_per_day","threshold":100,"enforcement":"soft","period":"2026-12-06T00:00:00Z","limit":1000,"used":1000}`,
			"quota:acc_1:max_messages_per_day:quota_reached:2026-12-06T00:00:00Z"},
		{channels.WebhookQuotaExceeded, 100, 1003, `{"name":"quota_exceeded","account_id":"acc_1","plan":"starter","quota":"max_messages_per_day","threshold":100,"enforcement":"soft","period":"2026-12-06T00:00:00Z","limit":1000,"used":1003}`,
			"quota:acc_1:max_messages_per_day:quota_exceeded:2026-12-06T00:00:00Z"},
	}
	for _, c := range cases {
		e := base
		e.Event, e.Threshold, e.Used = c.event, c.threshold, c.used
		ev, msgID := billing.QuotaWebhookEvent(e)
		b, err := json.Marshal(ev)
		if err != nil || string(b) != c.body || msgID != c.msgID {
			t.Errorf("%s: %s, %q (%v); want %s, %q", c.event, b, msgID, err, c.body, c.msgID)
		}
	}
	// The id names the row: another use at the same crossing is the same
	// event.
	e := base
	e.Event, e.Threshold, e.Used = channels.WebhookQuotaWarning, 80, 801
	if _, id := billing.QuotaWebhookEvent(e); id != cases[0].msgID {
		t.Errorf("msg id %q depends on the use", id)
	}
}

// TestQuotaWebhookOutboxResends: a crossing recorded by a control plane
// that died before sending it, then a failed send, still reaches the
// stream, under the row's id, once a send succeeds; nothing is sent
// again after that.
func TestQuotaWebhookOutboxResends(t *testing.T) {
	t.Parallel()
	e := newFoldEnv(t)
	ctx := context.Background()
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	ev := billing.QuotaEvent{AccountID: "acc_dead", Plan: "p", Quota: "max_messages_per_day", Event: channels.WebhookQuotaReached, Threshold: 100,
		Enforcement: "soft", Period: day, Limit: 10, Used: 10, At: day.Add(time.Hour)}
	if ok, err := e.store.RecordQuotaEvent(ctx, ev); err != nil || !ok {
		t.Fatalf("record = %v, %v", ok, err)
	}
	type sent struct {
		account, msgID string
		ev             channels.WebhookEvent
	}
	var got []sent
	fail := true
	r, err := billing.NewQuotaReporter(billing.QuotaReporterConfig{
		Store: e.store,
		Put:   func(context.Context, string, quota.Entry) error { return nil },
		Apps:  func(string) (*channels.AppConfig, bool) { return nil, false },
		Webhook: func(_ context.Context, account string, _ int64, ev channels.WebhookEvent, msgID string) error {
			if fail {
				fail = false
				return errors.New("stream unavailable")
			}
			got = append(got, sent{account, msgID, ev})
			return nil
		},
		Registerer: prometheus.NewRegistry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	r.Report(ctx, nil) // the send fails
	if len(got) != 0 {
		t.Fatalf("sent %+v through a failing stream", got)
	}
	r.Report(ctx, nil)
	want, wantID := billing.QuotaWebhookEvent(ev)
	if len(got) != 1 || got[0].account != ev.AccountID || got[0].msgID != wantID || got[0].ev != want {
		t.Fatalf("sent %+v; want %+v under %q", got, want, wantID)
	}
	r.Report(ctx, nil)
	if pending, err := e.store.PendingQuotaWebhooks(ctx, 10); err != nil || len(pending) != 0 || len(got) != 1 {
		t.Fatalf("after the send: pending %+v (%v), sent %d times", pending, err, len(got))
	}
}

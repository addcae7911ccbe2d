package billing_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald/billing"
)

func TestQuotaWebhookEvent(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	base := billing.QuotaEvent{AccountID: "acc_1", Plan: "starter", Quota: "max_messages_per_day", Enforcement: "soft",
		Period: day, Limit: 1000, At: day.Add(time.Hour)}
	cases := []struct {
		threshold int
		used      int64
		body      string
		msgID     string
	}{
		{80, 800, `{"name":"quota_warning","account_id":"acc_1","plan":"starter","quota":"max_messages_per_day","threshold":80,"enforcement":"soft","period":"2026-12-06T00:00:00Z","limit":1000,"used":800}`,
			"quota:acc_1:max_messages_per_day:80:2026-12-06T00:00:00Z"},
		{100, 1003, `{"name":"quota_exceeded","account_id":"acc_1","plan":"starter","quota":"max_messages_per_day","threshold":100,"enforcement":"soft","period":"2026-12-06T00:00:00Z","limit":1000,"used":1003}`,
			"quota:acc_1:max_messages_per_day:100:2026-12-06T00:00:00Z"},
	}
	for _, c := range cases {
		e := base
		e.Threshold, e.Used = c.threshold, c.used
		ev, msgID := billing.QuotaWebhookEvent(e)
		b, err := json.Marshal(ev)
		if err != nil || string(b) != c.body || msgID != c.msgID {
			t.Errorf("%d%%: %s, %q (%v); want %s, %q", c.threshold, b, msgID, err, c.body, c.msgID)
		}
	}
	// The id names the row: another use at the same crossing is the same
	// event.
	e := base
	e.Threshold, e.Used = 80, 801
	if _, id := billing.QuotaWebhookEvent(e); id != cases[0].msgID {
		t.Errorf("msg id %q depends on the use", id)
	}
}

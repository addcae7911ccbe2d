package herald_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/herald"
)

// TestQuotaExceededIsTyped puts the app's account on a plan of one
// message a day: the publish over it is a typed 429 with Retry-After (the
// next midnight UTC), returned at once even with an idempotency key, as
// the wait is beyond the retry policy's MaxDelay. Usage shows the plan.
func TestQuotaExceededIsTyped(t *testing.T) {
	a := newApp(t, nil, herald.Config{Retry: fast})
	var plan struct{ ID string }
	if err := a.srv.Admin(http.MethodPost, "/admin/v1/plans", map[string]any{
		"name": "tiny", "enforcement": "hard", "limits": map[string]any{"max_messages_per_day": 1},
	}, &plan); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.Admin(http.MethodPatch, "/admin/v1/accounts/"+a.app.AccountID, map[string]any{"plan_id": plan.ID}, nil); err != nil {
		t.Fatal(err)
	}
	var refused error
	eventually(t, "a publish refused over the plan", func() bool {
		_, refused = a.client.Trigger(ctx(t), []string{"q"}, "e", "d", herald.WithIdempotencyKey(time.Now().String()))
		return refused != nil
	})
	var he *herald.Error
	if !errors.As(refused, &he) {
		t.Fatalf("refusal %v is not an *herald.Error", refused)
	}
	untilMidnight := time.Until(time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour))
	if he.Status != http.StatusTooManyRequests || he.Code != herald.CodeQuotaExceeded || !errors.Is(refused, herald.ErrQuotaExceeded) ||
		he.RetryAfter <= 0 || he.RetryAfter > untilMidnight+time.Minute {
		t.Fatalf("refusal = %#v", he)
	}

	usage, err := a.client.Usage(ctx(t), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), herald.Day)
	if err != nil {
		t.Fatal(err)
	}
	if usage.Granularity != herald.Day || usage.Limits["max_messages_per_day"] != 1 ||
		usage.Remaining.MessagesToday == nil || usage.Remaining.MessagesThisMonth != nil {
		t.Fatalf("usage = %+v", usage)
	}
}

func TestUsageCountsPublishes(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	for i := range 3 {
		if _, err := a.client.Trigger(ctx(t), []string{"u"}, "e", i); err != nil {
			t.Fatal(err)
		}
	}
	var usage *herald.Usage
	eventually(t, "the publishes counted", func() bool {
		var err error
		usage, err = a.client.Usage(ctx(t), time.Now().Add(-time.Hour), time.Now().Add(time.Hour), herald.Minute)
		if err != nil {
			t.Fatal(err)
		}
		return usage.Totals.MessagesPublished == 3
	})
	if len(usage.Items) == 0 || usage.Items[0].Start.IsZero() || usage.Totals.Messages < 3 || usage.Limits["max_messages_per_day"] != 0 {
		t.Fatalf("usage = %+v", usage)
	}
	if _, err := a.client.Usage(ctx(t), time.Time{}, time.Time{}, "fortnight"); !errors.Is(err, herald.ErrBadRequest) {
		t.Fatalf("bad granularity: %v", err)
	}
}

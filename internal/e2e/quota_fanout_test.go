package e2e_test

import (
	"net/http"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// fanoutFoldsAfterRefusal is how many new totals the fan-out test waits
// for after the first refusal while it keeps publishing: the deliveries of
// the last accepted publishes are flushed and folded within them.
const fanoutFoldsAfterRefusal = 4

// fanoutMaxPublishes bounds the fan-out test's publishes.
const fanoutMaxPublishes = 5000

// TestQuotaFanoutNoOvershoot: a hard daily quota against publishes that
// fan out to subscribers, in one process. Once a publish is refused, every
// later one of the day is refused too, while meter flushes move the
// deliveries from the process's counters to the totals; and the account
// ends within the quota plus the fan-out of the last accepted publish
// (docs/billing.md, "Overshoot bound"). The publisher waits for each
// accepted publish to reach every subscriber before the next: a fan-out
// still under way is not counted yet.
func TestQuotaFanoutNoOvershoot(t *testing.T) {
	clk := &quotaClock{}
	h := testenv.Herald(t, quotaConfig(clk))
	const (
		perDay      = 200
		subscribers = 10
		ch          = "fanout"
	)
	plan := newPlan(t, h, "fanout", channels.EnforceHard, map[string]any{"max_messages_per_day": perDay})
	_, key, secret := appOnPlan(t, h, "quota-fanout", plan, nil)
	subs := make([]*testenv.PusherClient, subscribers)
	for i := range subs {
		subs[i] = testenv.MustDialPusher(t, h.URL(), key)
		subs[i].Subscribe(ch, key, "", "")
	}
	totals := quotaTotalsWatch(t, h, "quota-fanout")

	accepted, acceptedAfterRefusal := 0, 0
	refused, refusedAt := false, uint64(0)
	for i := 0; ; i++ {
		if i == fanoutMaxPublishes {
			t.Fatalf("%d publishes without %d new totals after the first refusal", i, fanoutFoldsAfterRefusal)
		}
		a := publishREST(t, h.URL(), "quota-fanout", key, secret, ch)
		switch a.code {
		case http.StatusOK:
			accepted++
			if refused {
				acceptedAfterRefusal++
			}
			// Deliveries count once written: the next publish is checked
			// against a finished fan-out, as the bound assumes.
			for _, p := range subs {
				p.Expect("e", ch)
			}
		case http.StatusTooManyRequests:
			if !refused {
				refused, refusedAt = true, totals.revision(t)
			}
		default:
			t.Fatalf("publish %d = %d %s", i, a.code, a.body)
		}
		if refused && totals.revision(t) >= refusedAt+fanoutFoldsAfterRefusal {
			break
		}
	}
	if acceptedAfterRefusal > 0 {
		t.Errorf("%d publishes accepted after the first refusal (of %d accepted)", acceptedAfterRefusal, accepted)
	}
	var usage struct {
		Totals struct {
			Messages          int64 `json:"messages"`
			MessagesPublished int64 `json:"messages_published"`
			MessagesDelivered int64 `json:"messages_delivered"`
		}
	}
	testinfra.WaitUntilWithin(t, "usage to count every accepted publish and its deliveries", usageDeadline, func() bool {
		h.Admin(t, "GET", "/admin/v1/apps/quota-fanout/usage?granularity=day", nil, &usage)
		return usage.Totals.MessagesPublished == int64(accepted) && usage.Totals.MessagesDelivered == int64(accepted*subscribers)
	})
	if bound := int64(perDay + subscribers); usage.Totals.Messages > bound {
		t.Errorf("messages = %d (%d publishes accepted); want at most %d, the quota plus one publish's fan-out",
			usage.Totals.Messages, accepted, bound)
	}
	t.Logf("%d publishes accepted, %d messages of %d", accepted, usage.Totals.Messages, perDay)
}

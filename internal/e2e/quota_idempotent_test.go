package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestQuotaIdempotentRetryAtQuota: once an account is at its hard daily
// quota, the retry of a publish it accepted (same Idempotency-Key, same
// herald:publish id) is answered with the first publish's serials, as
// docs/protocol.md promises, and counts nothing; a new publish is
// refused.
func TestQuotaIdempotentRetryAtQuota(t *testing.T) {
	h := meteredHerald(t)
	plan := newPlan(t, h, "idem-hard", channels.EnforceHard, map[string]any{"max_messages_per_day": 3})
	_, key, secret := appOnPlan(t, h, "quota-idem", plan, map[string]any{"client_events": true})
	p := testenv.MustDialPusher(t, h.URL(), key)
	p.Subscribe("private-idem", key, secret, "")

	publish := func(idem string) (int, map[string]uint64) {
		t.Helper()
		hd := basic(key, secret)
		hd.Set("Idempotency-Key", idem)
		code, body := isoRequest(t, "POST", h.URL()+"/apps/quota-idem/events",
			[]byte(`{"name":"e","data":"d","channels":["a","b"]}`), hd)
		var r struct{ Serials map[string]uint64 }
		if code == http.StatusOK {
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				t.Fatalf("answer %s: %v", body, err)
			}
		}
		return code, r.Serials
	}
	// 2 messages, then the acked publish's 1: 3 of 3, nobody else hears.
	code, first := publish("k1")
	if code != http.StatusOK || len(first) != 2 {
		t.Fatalf("first publish = %d %v", code, first)
	}
	ack := func(id string) (uint64, bool) {
		t.Helper()
		p.Send(protocol.EventPublish, "", map[string]any{"channel": "private-idem", "event": "client-x", "data": "x", "id": id})
		for {
			e, err := p.Next()
			if err != nil {
				t.Fatal(err)
			}
			switch e.Event {
			case protocol.EventAck:
				var a struct{ Serial uint64 }
				e.DecodeData(t, &a)
				return a.Serial, true
			case protocol.EventNack:
				return 0, false
			}
		}
	}
	serial, ok := ack("hp-1")
	if !ok {
		t.Fatal("herald:publish under the quota refused")
	}
	// At the quota: new publishes are refused.
	if code, _ := publish("k2"); code != http.StatusTooManyRequests {
		t.Fatalf("a new publish at the quota = %d; want 429", code)
	}
	if _, ok := ack("hp-2"); ok {
		t.Fatal("a new herald:publish at the quota acked")
	}
	code, again := publish("k1")
	if code != http.StatusOK || again["a"] != first["a"] || again["b"] != first["b"] {
		t.Fatalf("retry of the accepted publish = %d %v; want 200 with %v", code, again, first)
	}
	if s, ok := ack("hp-1"); !ok || s != serial {
		t.Fatalf("resend of the acked publish = %d, %v; want the ack with serial %d", s, ok, serial)
	}
	// The retries stored and counted nothing.
	var usage struct {
		Totals struct {
			MessagesPublished int64 `json:"messages_published"`
		}
	}
	testinfra.WaitUntilWithin(t, "usage to count the 3 publishes", usageDeadline, func() bool {
		h.Admin(t, "GET", "/admin/v1/apps/quota-idem/usage?granularity=day", nil, &usage)
		return usage.Totals.MessagesPublished >= 3
	})
	if usage.Totals.MessagesPublished != 3 {
		t.Fatalf("messages_published = %d; want 3", usage.Totals.MessagesPublished)
	}
}

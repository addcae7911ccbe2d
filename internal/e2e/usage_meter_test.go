package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
)

// Meter timings of the usage tests: short flushes and folds, and the
// deadline for usage to add up (the 2 × flush interval, plus the
// slack of a loaded test machine).
const (
	meterFlushInterval = 200 * time.Millisecond
	meterFoldWait      = 50 * time.Millisecond
	usageDeadline      = 10 * time.Second
)

func meteredHerald(t *testing.T) *testenv.HeraldEnv {
	t.Helper()
	return testenv.Herald(t, func(c *platform.Config) {
		c.Metering = platform.MeteringConfig{FlushInterval: meterFlushInterval, FoldWait: meterFoldWait}
	})
}

// readUsage reads an app's usage at every granularity around now: the
// month's row, and the sums of its minute, hour and day rows.
func readUsage(t *testing.T, pool *pgxpool.Pool, appID string) map[billing.Granularity]billing.Counters {
	t.Helper()
	out := map[billing.Granularity]billing.Counters{}
	rows, err := pool.Query(context.Background(), `
		select granularity, messages_published, messages_delivered, presence_events, webhook_calls, api_requests,
			bytes_in, bytes_out, connection_seconds, peak_connections, history_reads
		from usage where app_id = $1`, appID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var g string
		var c billing.Counters
		if err := rows.Scan(&g, &c.MessagesPublished, &c.MessagesDelivered, &c.PresenceEvents, &c.WebhookCalls, &c.APIRequests,
			&c.BytesIn, &c.BytesOut, &c.ConnectionSeconds, &c.PeakConnections, &c.HistoryReads); err != nil {
			t.Fatal(err)
		}
		sum := out[billing.Granularity(g)]
		sum.Add(c)
		out[billing.Granularity(g)] = sum
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUsageCountingRules drives every counted path through a running
// Herald and reads the usage table: each counter is exact, at every
// granularity, within the deadline, and stays so (nothing counted twice).
func TestUsageCountingRules(t *testing.T) {
	h := meteredHerald(t)
	pool, err := pgxpool.New(context.Background(), h.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)

	w1 := testenv.MustDialPusher(t, h.URL(), key)
	w2 := testenv.MustDialPusher(t, h.URL(), key)
	w1.Subscribe("news", key, "", "")
	w2.Subscribe("news", key, "", "")
	s, code, _ := openSSE(t, h, "key="+key+"&channel=news", "")
	if code != http.StatusOK {
		t.Fatalf("sse = %d", code)
	}
	defer s.close()

	// A REST event to 3 channels: 3 published; 3 delivered (news only).
	testenv.Trigger(t, h.URL(), appID, key, secret, "e1", "d1", "news", "a", "b")
	w1.Expect("e1", "news")
	w2.Expect("e1", "news")
	s.nextEvent()

	// An idempotent publish sent 3 times: 1 published, 3 delivered.
	for range 3 {
		hd := basic(key, secret)
		hd.Set("Idempotency-Key", "usage-1")
		if code, resp := isoRequest(t, "POST", h.URL()+"/apps/"+appID+"/events", []byte(`{"name":"e2","data":"d2","channel":"news"}`), hd); code != 200 {
			t.Fatalf("idempotent publish = %d %s", code, resp)
		}
	}
	w1.Expect("e2", "news")
	w2.Expect("e2", "news")
	s.nextEvent()

	// A client event: 1 published, 1 delivered (the sender is excluded).
	w1.Subscribe("private-c", key, secret, "")
	w2.Subscribe("private-c", key, secret, "")
	w1.Send("client-x", "private-c", map[string]any{"on": true})
	w2.Expect("client-x", "private-c")

	// An acked herald:publish, retried twice with its id: 1 and 1.
	for range 3 {
		w1.Send("herald:publish", "", map[string]any{"channel": "private-c", "event": "hp", "data": "42", "id": "usage-hp"})
		w1.Expect("herald_internal:ack", "")
	}
	w2.Expect("hp", "private-c")

	// Presence: w2 joining and leaving sends w1 member_added and
	// member_removed: 2 presence events. w2 leaves by dropping its
	// connection: an unsubscribe may get the leaver its own
	// member_removed (it is still subscribed when the roster hears of the
	// leave), which would be written to it and counted.
	w1.Subscribe("presence-room", key, secret, `{"user_id":"u1"}`)
	w2.Subscribe("presence-room", key, secret, `{"user_id":"u2"}`)
	w1.Expect("pusher_internal:member_added", "presence-room")
	_ = w2.WS().Close()
	w1.Expect("pusher_internal:member_removed", "presence-room")

	// A rewind of news: 2 delivered.
	w3 := testenv.MustDialPusher(t, h.URL(), key)
	subscribeWith(t, w3, "news", map[string]any{"rewind": 2})
	w3.Expect("e1", "news")
	w3.Expect("e2", "news")

	// A history read of news returns 2 messages.
	q := url.Values{"limit": {"10"}}
	if code, resp := testenv.SignedRequest(t, "GET", h.URL(), "/apps/"+appID+"/channels/news/messages", key, secret, q, nil); code != 200 {
		t.Fatalf("history = %d %s", code, resp)
	}

	// 1 trigger, 3 idempotent publishes and 1 history read.
	const restBytes = 3*len("d1") + len("d2")
	want := billing.Counters{
		MessagesPublished: 3 + 1 + 1 + 1,
		MessagesDelivered: 3 + 3 + 1 + 1 + 2,
		PresenceEvents:    2,
		APIRequests:       5,
		HistoryReads:      2,
	}
	matches := func(c billing.Counters) bool {
		hp := c.BytesIn - int64(restBytes+len(`{"on":true}`))
		return c.MessagesPublished == want.MessagesPublished && c.MessagesDelivered == want.MessagesDelivered &&
			c.PresenceEvents == want.PresenceEvents && c.APIRequests == want.APIRequests &&
			c.HistoryReads == want.HistoryReads && c.WebhookCalls == 0 &&
			(hp == int64(len("42")) || hp == int64(len(`"42"`))) &&
			c.BytesOut > 0 && c.ConnectionSeconds > 0 && c.PeakConnections >= 3 && c.PeakConnections <= 4
	}
	deadline := time.Now().Add(usageDeadline)
	var got map[billing.Granularity]billing.Counters
	for {
		got = readUsage(t, pool, appID)
		all := true
		for _, g := range billing.Granularities {
			all = all && matches(got[g])
		}
		if all {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage after %s: %+v; want %+v (bytes_in %d + a herald:publish's, peak 3..4)", usageDeadline, got, want, restBytes+len(`{"on":true}`))
		}
		time.Sleep(meterFlushInterval / 2)
	}
	// Every granularity agrees, and nothing is counted twice later.
	time.Sleep(3 * meterFlushInterval)
	again := readUsage(t, pool, appID)
	for _, g := range billing.Granularities {
		a, m := again[g], again[billing.Month]
		if a.MessagesPublished != m.MessagesPublished || a.MessagesDelivered != m.MessagesDelivered || a.BytesOut != m.BytesOut {
			t.Errorf("%s rows %+v disagree with the month's %+v", g, a, m)
		}
		if !matches(a) {
			t.Errorf("%s usage changed to %+v", g, a)
		}
	}
}

package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/bus/quota"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway"
	"github.com/heraldhq/herald/internal/platform"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Quotas are set through the plan API (applyQuota); the quota clock is
// injected (platform.MeteringConfig.QuotaClock) so that a period can end.
const (
	// quotaFlushInterval and the fold wait keep the totals seconds fresh.
	quotaFlushInterval = 300 * time.Millisecond
	// quotaDeadline bounds how long the totals take to reach the
	// enforcers: a fold, a KV put, a watch.
	quotaDeadline = 2*quotaFlushInterval + 3*time.Second
)

// quotaClock is the platforms' injected quota clock.
type quotaClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *quotaClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

func (c *quotaClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func quotaConfig(clk *quotaClock) func(*platform.Config) {
	return func(c *platform.Config) {
		c.Metering = platform.MeteringConfig{FlushInterval: quotaFlushInterval, FoldWait: meterFoldWait, QuotaClock: clk.Now}
	}
}

// quotaPlans numbers the plans applyQuota makes.
var quotaPlans atomic.Int64

// applyQuota puts the account of app appID on a new plan holding q,
// through the plan API as an operator does; the control plane republishes
// the account's app configs before it answers.
func applyQuota(t *testing.T, h testenv.Node, appID string, q channels.Quota) {
	t.Helper()
	var app struct {
		AccountID string `json:"account_id"`
	}
	if code := h.Admin(t, "GET", "/admin/v1/apps/"+appID, nil, &app); code != http.StatusOK {
		t.Fatalf("GET app %s = %d", appID, code)
	}
	limits := map[string]any{
		"max_connections": q.MaxConnections, "max_messages_per_day": q.MaxMessagesPerDay,
		"max_messages_per_month": q.MaxMessagesPerMonth, "publish_rate": q.PublishRate,
	}
	plan := newPlan(t, h, fmt.Sprintf("%s-%d", q.Plan, quotaPlans.Add(1)), q.Enforcement, limits)
	setPlan(t, h, app.AccountID, plan)
}

// restPublish publishes one event to channel and returns the status, the
// Retry-After header and the body.
func restPublish(t *testing.T, h *testenv.HeraldEnv, appID, key, secret, channel string) (int, string, []byte) {
	t.Helper()
	body := []byte(`{"name":"n","data":"d","channels":["` + channel + `"]}`)
	code, hdr, b := testenv.SignedRequestHeader(t, http.DefaultClient, "POST", h.URL(), "/apps/"+appID+"/events", key, secret, nil, body)
	return code, hdr.Get("Retry-After"), b
}

// heraldPublish sends a herald:publish and returns the code of its nack
// (0 for an ack).
func heraldPublish(t *testing.T, p *testenv.PusherClient, channel, id string) int {
	t.Helper()
	p.Send("herald:publish", "", map[string]any{"channel": channel, "event": "client-x", "data": "d", "id": id})
	for {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("herald:publish %s: %v", id, err)
		}
		switch e.Event {
		case "herald_internal:ack":
			return 0
		case "herald_internal:nack":
			var n struct{ Code int }
			e.DecodeData(t, &n)
			return n.Code
		}
	}
}

// expectClientEventRefused sends a client event and expects pusher:error
// 4301 naming the quota, the connection kept (a ping still answered).
func expectClientEventRefused(t *testing.T, p *testenv.PusherClient, channel, quota string) {
	t.Helper()
	p.Send("client-x", channel, map[string]any{})
	e, _ := p.Expect("pusher:error", "")
	var d struct {
		Code    int
		Message string
	}
	if err := json.Unmarshal([]byte(e.Data), &d); err != nil {
		e.DecodeData(t, &d)
	}
	if d.Code != int(channels.PusherClientEventLimit) || !strings.Contains(d.Message, quota) {
		t.Fatalf("client event over the quota: %+v; want 4301 naming %s", d, quota)
	}
	p.Send("pusher:ping", "", map[string]any{})
	p.Expect("pusher:pong", "")
}

// nextMidnight is 00:00 UTC after t.
func nextMidnight(t time.Time) time.Time { return billing.Day.Next(billing.Day.Start(t)) }

// TestQuotaHardRefusalsAndRecovery: with a hard plan over its daily
// message quota, REST publishes answer 429 quota_exceeded with
// Retry-After, client events pusher:error 4301, herald:publish nack 4301;
// over max_connections a WebSocket gets 4004 and SSE 429. Raising the
// quota lifts the refusals within a second, without a restart, and so
// does the day's end.
func TestQuotaHardRefusalsAndRecovery(t *testing.T) {
	clk := &quotaClock{}
	now := time.Now().UTC()
	clk.Set(now)
	h := testenv.Herald(t, quotaConfig(clk))
	key, secret := newApp(t, h, "quota-hard", map[string]any{"client_events": true})
	a := testenv.MustDialPusher(t, h.URL(), key)
	const ch = "private-quota"
	a.Subscribe(ch, key, secret, "")

	const perDay = 3
	tiny := channels.Quota{Plan: "tiny", Enforcement: channels.EnforceHard, MaxMessagesPerDay: perDay, MaxConnections: 2}
	applyQuota(t, h, "quota-hard", tiny)
	// The refusal appears once the config has propagated; the publishes
	// that passed meanwhile count.
	var code int
	var retry string
	var body []byte
	testinfra.WaitUntilWithin(t, "the quota to refuse a REST publish", appChangeDeadline+time.Second, func() bool {
		code, retry, body = restPublish(t, h, "quota-hard", key, secret, "empty")
		return code == http.StatusTooManyRequests
	})
	var eb channels.ErrorBody
	if err := json.Unmarshal(body, &eb); err != nil || eb.Error.Code != channels.CodeQuotaExceeded ||
		!strings.Contains(eb.Error.Message, "max_messages_per_day") {
		t.Fatalf("429 body = %s", body)
	}
	wantRetry := int(nextMidnight(now).Sub(now).Seconds())
	if got, _ := strconv.Atoi(retry); got < wantRetry || got > wantRetry+1 {
		t.Fatalf("Retry-After = %q; want about %d (seconds to midnight UTC on the quota clock)", retry, wantRetry)
	}
	expectClientEventRefused(t, a, ch, "max_messages_per_day")
	if n := heraldPublish(t, a, ch, "p1"); n != int(channels.PusherClientEventLimit) {
		t.Fatalf("herald:publish over the quota: nack %d; want 4301", n)
	}

	// Connections: a is one (newApp's probes gone), the second fills
	// max_connections.
	waitSeries(t, h, localConnsSeries, "1")
	testenv.MustDialPusher(t, h.URL(), key)
	_, err := testenv.DialPusher(t, h.URL(), key, "", nil)
	if err == nil || !strings.Contains(err.Error(), "pusher:error 4004") {
		t.Fatalf("a third connection: err = %v; want pusher:error 4004", err)
	}
	res, err := http.Get(h.URL() + "/sse?key=" + key + "&channel=quota-news")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("SSE over the account's connections = %d; want 429", res.StatusCode)
	}

	// Raised: publishes pass within a second (the config's propagation).
	raised := tiny
	raised.MaxMessagesPerDay = 1000
	applyQuota(t, h, "quota-hard", raised)
	start := time.Now()
	testinfra.WaitUntilWithin(t, "the raised quota to let publishes through", appChangeDeadline, func() bool {
		code, _, _ = restPublish(t, h, "quota-hard", key, secret, "empty")
		return code == http.StatusOK
	})
	t.Logf("raised quota effective after %s", time.Since(start))
	if n := heraldPublish(t, a, ch, "p2"); n != 0 {
		t.Fatalf("herald:publish after the raise: nack %d", n)
	}

	// Back to the tiny quota: refused again until the day ends.
	applyQuota(t, h, "quota-hard", tiny)
	testinfra.WaitUntilWithin(t, "the tiny quota again", appChangeDeadline, func() bool {
		code, _, _ = restPublish(t, h, "quota-hard", key, secret, "empty")
		return code == http.StatusTooManyRequests
	})
	// A new day on the quota clock lifts the refusals, and its own quota
	// holds. The message stream stamps messages with the real clock, so a
	// fold landing in the middle counts the new day's publishes in the
	// real day's totals and wipes this process's count of them: an
	// artefact of moving one clock only. A day where the account's totals
	// changed under the publishes is skipped; one where they did not must
	// refuse the publish past the quota.
	totals := quotaTotalsWatch(t, h, "quota-hard")
	day := nextMidnight(now)
	for attempt := 1; ; attempt++ {
		clk.Set(day.Add(time.Second))
		before := totals.revision(t)
		for i := range perDay {
			if code, _, b := restPublish(t, h, "quota-hard", key, secret, "empty"); code != http.StatusOK {
				t.Fatalf("publish %d of the new day = %d %s", i, code, b)
			}
		}
		code, retry, _ := restPublish(t, h, "quota-hard", key, secret, "empty")
		if code == http.StatusTooManyRequests {
			if retry != strconv.Itoa(24*60*60-1) {
				t.Fatalf("publish past the new day's quota: Retry-After %q; want %d", retry, 24*60*60-1)
			}
			break
		}
		if totals.revision(t) == before {
			t.Fatalf("publish past the new day's quota = %d with no fold in between; want 429", code)
		}
		if attempt == maxQuotaDayAttempts {
			t.Fatalf("a fold landed inside each of %d new days", attempt)
		}
		t.Logf("a fold landed inside new day %d; trying the next day", attempt)
		day = billing.Day.Next(day)
	}
}

// maxQuotaDayAttempts bounds the new days TestQuotaHardRefusalsAndRecovery
// tries before it calls a fold inside every one a failure.
const maxQuotaDayAttempts = 5

// quotaTotals reads one account's key in the quota totals bucket.
type quotaTotals struct {
	kv      jetstream.KeyValue
	account string
}

func quotaTotalsWatch(t *testing.T, h *testenv.HeraldEnv, appID string) quotaTotals {
	t.Helper()
	var app struct {
		AccountID string `json:"account_id"`
	}
	if code := h.Admin(t, "GET", "/admin/v1/apps/"+appID, nil, &app); code != http.StatusOK {
		t.Fatalf("GET app %s = %d", appID, code)
	}
	return quotaTotals{kv: bucketKV(t, h, quota.Bucket), account: app.AccountID}
}

// revision is the latest revision of the account's totals, 0 before the
// first: every totals value an enforcer can hold was written at or below
// it.
func (q quotaTotals) revision(t *testing.T) uint64 {
	t.Helper()
	e, err := q.kv.Get(context.Background(), q.account)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0
	}
	if err != nil {
		t.Fatalf("quota totals of %s: %v", q.account, err)
	}
	return e.Revision()
}

// TestQuotaSoftRecordsOverage: a soft plan refuses nothing; the overage
// shows in herald_quota_exceeded_total, the usage API's over_quota, one
// audit entry each for the limit reached and exceeded, and the warning,
// reached and exceeded events on NATS.
func TestQuotaSoftRecordsOverage(t *testing.T) {
	clk := &quotaClock{}
	h := testenv.Herald(t, quotaConfig(clk))
	key, secret := newApp(t, h, "quota-soft", nil)
	var app struct {
		AccountID string `json:"account_id"`
	}
	if code := h.Admin(t, "GET", "/admin/v1/apps/quota-soft", nil, &app); code != 200 {
		t.Fatalf("get app = %d", code)
	}
	nc, err := nats.Connect(h.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	events, err := nc.SubscribeSync(channels.QuotaEventSubject(app.AccountID))
	if err != nil {
		t.Fatal(err)
	}
	applyQuota(t, h, "quota-soft", channels.Quota{Plan: "soft", Enforcement: channels.EnforceSoft, MaxMessagesPerDay: 2})
	testinfra.WaitUntilWithin(t, "the soft quota to be seen", appChangeDeadline+time.Second, func() bool {
		if code, _, b := restPublish(t, h, "quota-soft", key, secret, "empty"); code != http.StatusOK {
			t.Fatalf("a soft plan refused a publish: %d %s", code, b)
		}
		v := metricSeriesValue(t, h, `herald_quota_exceeded_total{quota="max_messages_per_day"}`)
		return v != "" && v != "0"
	})
	got := map[channels.WebhookEventName]billing.QuotaEvent{}
	for len(got) < len(billing.QuotaLevels) {
		m, err := events.NextMsg(quotaDeadline)
		if err != nil {
			t.Fatalf("quota events so far %+v: %v", got, err)
		}
		var e billing.QuotaEvent
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatal(err)
		}
		if _, dup := got[e.Event]; dup {
			t.Fatalf("event %s announced twice", e.Event)
		}
		got[e.Event] = e
	}
	if e := got[channels.WebhookQuotaReached]; e.Quota != "max_messages_per_day" || e.Limit != 2 || e.Used < 2 || e.AccountID != app.AccountID {
		t.Fatalf("reached event = %+v", e)
	}
	if e := got[channels.WebhookQuotaExceeded]; e.Threshold != 100 || e.Used <= 2 {
		t.Fatalf("exceeded event = %+v", e)
	}
	var usage struct {
		Items []struct {
			OverQuota bool `json:"over_quota"`
		}
	}
	if code := h.Admin(t, "GET", "/admin/v1/accounts/"+app.AccountID+"/usage?granularity=day", nil, &usage); code != 200 ||
		len(usage.Items) != 1 || !usage.Items[0].OverQuota {
		t.Fatalf("account usage = %d %+v; want today over_quota", code, usage)
	}
	var audit struct {
		Items []struct{ Action, Target string }
	}
	h.Admin(t, "GET", "/admin/v1/audit?limit=100", nil, &audit)
	actions := map[string]int{}
	for _, e := range audit.Items {
		if e.Target == app.AccountID {
			actions[e.Action]++
		}
	}
	if actions["quota.reached"] != 1 || actions["quota.exceeded"] != 1 {
		t.Fatalf("audit entries = %v; want one quota.reached and one quota.exceeded", actions)
	}
	// More publishes announce nothing more this period.
	for range 3 {
		restPublish(t, h, "quota-soft", key, secret, "empty")
	}
	if m, err := events.NextMsg(2 * quotaDeadline / 3); err == nil {
		t.Fatalf("announced again: %s", m.Data)
	}
}

// raceQuota gives app id (made on cp, its key known to every gateway of
// gws) a hard daily quota of perDay, then has one client per entry of
// gws publish herald:publish as fast as the acks come, each on a channel
// of its own that nobody else hears (every accepted publish is one
// message: published, never delivered), until 50 in a row are refused.
// It returns what each client had accepted, and a probe that publishes
// once more from a client and reports whether it was refused.
func raceQuota(t *testing.T, cp *testenv.HeraldEnv, gws map[string]*testenv.HeraldEnv, id string, perDay int) (map[string]int, func(name string) bool) {
	t.Helper()
	key, secret := newApp(t, cp, id, map[string]any{"client_events": true, "client_event_rate": 10000})
	var all []testenv.Node
	for _, g := range gws {
		all = append(all, g)
	}
	waitKey(t, all, key)
	applyQuota(t, cp, id, channels.Quota{Plan: "race", Enforcement: channels.EnforceHard, MaxMessagesPerDay: int64(perDay)})
	chOf := func(name string) string { return "private-race-" + name }
	clients := map[string]*testenv.PusherClient{}
	for name, g := range gws {
		p := testenv.MustDialPusher(t, g.URL(), key)
		p.Subscribe(chOf(name), key, secret, "")
		clients[name] = p
	}
	// Give the gateways the time the config takes to reach them: a
	// probe would spend the quota it is meant to test.
	time.Sleep(appChangeDeadline)

	var wg sync.WaitGroup
	accepted := map[string]int{}
	var mu sync.Mutex
	for name, p := range clients {
		wg.Go(func() {
			n, refusedInARow := 0, 0
			for i := 0; refusedInARow < 50 && i < 10*perDay; i++ {
				if heraldPublish(t, p, chOf(name), fmt.Sprintf("%s-%d", name, i)) == 0 {
					n++
					refusedInARow = 0
				} else {
					refusedInARow++
				}
			}
			mu.Lock()
			accepted[name] = n
			mu.Unlock()
		})
	}
	wg.Wait()
	late := 0
	refused := func(name string) bool {
		late++
		return heraldPublish(t, clients[name], chOf(name), fmt.Sprintf("late-%d", late)) != 0
	}
	return accepted, refused
}

// TestQuotaNoOvershootOneGateway: clients of one gateway publishing at
// full speed together get exactly the quota accepted.
func TestQuotaNoOvershootOneGateway(t *testing.T) {
	h := testenv.Herald(t, quotaConfig(&quotaClock{}))
	const perDay = 200
	accepted, _ := raceQuota(t, h, map[string]*testenv.HeraldEnv{"a": h, "b": h, "c": h}, "quota-one", perDay)
	if total := accepted["a"] + accepted["b"] + accepted["c"]; total != perDay {
		t.Fatalf("one gateway accepted %v, %d in all; want exactly %d", accepted, total, perDay)
	}
}

// TestQuotaOvershootTwoGateways: two gateways accepting herald:publish at
// full speed against one daily quota. Each accepts at most the quota (it
// never overshoots on its own: the totals plus what it accepted itself),
// so together they overshoot by at most what the other accepted before
// the totals caught up; and between them they accept at least the
// quota.
func TestQuotaOvershootTwoGateways(t *testing.T) {
	clk := &quotaClock{}
	cl := newClusterEnv(t)
	quotaConfig(clk)(&cl.base)
	// The control plane runs with the test's sync interval and metering.
	if err := cl.cp.Close(); err != nil {
		t.Fatal(err)
	}
	c := cl.cp.Config
	quotaConfig(clk)(&c)
	cl.cp = testenv.StartHerald(t, c)
	ga, gb := cl.gateway(t, "gw-qa"), cl.gateway(t, "gw-qb")
	const perDay = 300
	accepted, refused := raceQuota(t, cl.cp, map[string]*testenv.HeraldEnv{"a": ga, "b": gb}, "quota-race", perDay)
	total := accepted["a"] + accepted["b"]
	t.Logf("accepted a=%d b=%d total=%d quota=%d overshoot=%d", accepted["a"], accepted["b"], total, perDay, total-perDay)
	for name, n := range accepted {
		if n > perDay {
			t.Errorf("gateway %s alone accepted %d > quota %d", name, n, perDay)
		}
	}
	if total < perDay {
		t.Errorf("together accepted %d < quota %d", total, perDay)
	}
	// Once the totals caught up, both refuse.
	testinfra.WaitUntilWithin(t, "both gateways to refuse", quotaDeadline, func() bool {
		return refused("a") && refused("b")
	})
}

// TestQuotaAccountConnections: an account's max_connections counts the
// connections of all its apps; a hard plan refuses the one over it (4004,
// SSE 429), a soft one lets it in.
func TestQuotaAccountConnections(t *testing.T) {
	h := testenv.Herald(t, quotaConfig(&quotaClock{}))
	var acc struct{ ID string }
	if code := h.Admin(t, "POST", "/admin/v1/accounts", map[string]any{"name": "two-apps"}, &acc); code != 201 {
		t.Fatalf("create account = %d", code)
	}
	keys := map[string]string{}
	for _, id := range []string{"conn-one", "conn-two"} {
		if code := h.Admin(t, "POST", "/admin/v1/apps", map[string]any{"account_id": acc.ID, "name": id, "id": id}, nil); code != 201 {
			t.Fatalf("create app %s = %d", id, code)
		}
		var k struct{ Key, Secret string }
		if code := h.Admin(t, "POST", "/admin/v1/apps/"+id+"/keys", map[string]any{}, &k); code != 201 {
			t.Fatalf("create key = %d", code)
		}
		testinfra.Sensitive(k.Secret)
		keys[id] = k.Key
	}
	waitKey(t, []testenv.Node{h}, keys["conn-one"])
	waitKey(t, []testenv.Node{h}, keys["conn-two"])
	hard := channels.Quota{Plan: "conns", Enforcement: channels.EnforceHard, MaxConnections: 2}
	applyQuota(t, h, "conn-one", hard)
	// waitKey's probes are gone before the counting starts.
	waitSeries(t, h, localConnsSeries, "0")
	testenv.MustDialPusher(t, h.URL(), keys["conn-one"])
	testenv.MustDialPusher(t, h.URL(), keys["conn-two"])
	testinfra.WaitUntilWithin(t, "the account's third connection refused", appChangeDeadline, func() bool {
		p, err := testenv.DialPusher(t, h.URL(), keys["conn-one"], "", nil)
		if err == nil {
			p.WS().Close()
			return false
		}
		if !strings.Contains(err.Error(), "pusher:error 4004") {
			t.Fatalf("third connection: %v; want pusher:error 4004", err)
		}
		return true
	})
	res, err := http.Get(h.URL() + "/sse?key=" + keys["conn-two"] + "&channel=news")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if want := strconv.Itoa(int(gateway.ConnQuotaRetryAfter.Seconds())); res.StatusCode != http.StatusTooManyRequests ||
		res.Header.Get("Retry-After") != want {
		t.Fatalf("SSE over the account's connections = %d, Retry-After %q; want 429, %s", res.StatusCode, res.Header.Get("Retry-After"), want)
	}
	soft := hard
	soft.Enforcement = channels.EnforceSoft
	applyQuota(t, h, "conn-one", soft)
	testinfra.WaitUntilWithin(t, "a soft plan to let the third connection in", appChangeDeadline, func() bool {
		p, err := testenv.DialPusher(t, h.URL(), keys["conn-two"], "", nil)
		if err != nil {
			return false
		}
		p.WS().Close()
		return true
	})
	if v := metricSeriesValue(t, h, `herald_quota_exceeded_total{quota="max_connections"}`); v == "" || v == "0" {
		t.Fatalf("herald_quota_exceeded_total{quota=max_connections} = %q", v)
	}
}

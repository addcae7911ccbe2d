package e2e_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/heraldhq/herald/controlplane"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/ws"
	"github.com/heraldhq/herald/internal/secretbox"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// Timings of the cluster usage tests. The usage API must show the totals
// within 2 flush intervals of the last event (docs/billing.md); the
// margin covers a fold's transaction and a loaded test machine running
// with -race.
const (
	clusterFlushInterval = 300 * time.Millisecond
	clusterUsageDeadline = 2*clusterFlushInterval + 3*time.Second
	// clusterAckWait is the meter consumers' ack wait (--meter-ack-wait):
	// after the control plane's kill, a batch it held is folded again
	// once this has passed; short so the test need not wait the default.
	clusterAckWait = 2 * time.Second
	// clusterQuiet is how long a subscriber must stay silent to be
	// drained: every frame sent to it has long arrived by then.
	clusterQuiet = 500 * time.Millisecond
	// Channels the tests publish to; usageOtherChannel has no subscriber.
	usageFeed         = "private-feed"
	usageRoom         = "presence-room"
	usageOtherChannel = "nobody-listens"
)

// usageCluster is a metered control plane and two gateways, each a herald
// binary of its own so that the tests can SIGKILL them, on a 3-node NATS
// cluster, and the subscribers the test reads everything from.
type usageCluster struct {
	bin   string
	nats  *testinfra.Cluster
	dbURL string
	// common are the flags of every process.
	common []string
	cp     *testenv.Proc
	gws    map[string]*testenv.Proc
	app    string
	key    string
	sec    string
	subs   []*usageSub
	// published is what the test's accepted publishes count.
	published int64
	hpSeq     int
	// started bounds the usage reads: the test's periods are after it.
	started time.Time
}

// usageSub is a subscriber that counts every frame it read.
type usageSub struct {
	p        *testenv.PusherClient
	gw, user string
	// delivered counts channel events, presence member_added and
	// member_removed; gone is set once its gateway closed it.
	delivered, presence int64
	gone                bool
}

// newUsageCluster starts the cluster; gw-b's first run flushes every
// gwbFlush, gw-b started again and the others every clusterFlushInterval.
func newUsageCluster(t *testing.T, app string, gwbFlush time.Duration) *usageCluster {
	t.Helper()
	u := &usageCluster{
		bin: testenv.BuildHerald(t), nats: testinfra.NATSCluster(t, 3), dbURL: testinfra.Postgres(t),
		gws: map[string]*testenv.Proc{}, app: app, started: time.Now(),
	}
	masterKey := secretbox.GenerateKey()
	testinfra.Sensitive(masterKey)
	u.common = []string{
		"--addr", "127.0.0.1:0", "--nats-url", u.nats.ClientURLs(), "--nats-replicas", "3",
		"--master-key", masterKey, "--shutdown-timeout", "5s", "--meter-ack-wait", clusterAckWait.String(),
	}
	u.startControlPlane(t)
	u.startGateway(t, "gw-a", clusterFlushInterval)
	u.startGateway(t, "gw-b", gwbFlush)
	u.key, u.sec = newAppOn(t, u.cp, []testenv.Node{u.gws["gw-a"], u.gws["gw-b"]}, app)
	return u
}

// clusterAdminToken is the control plane's --admin-token.
const clusterAdminToken = "usage-cluster-admin-token"

func (u *usageCluster) startControlPlane(t *testing.T) {
	t.Helper()
	args := append([]string{"controlplane"}, u.common...)
	args = append(args, "--database-url", u.dbURL, "--admin-token", clusterAdminToken,
		"--meter-flush-interval", clusterFlushInterval.String(), "--config-sync-interval", "1s")
	u.cp = testenv.StartProc(t, "controlplane", u.bin, args...)
	u.cp.Token = clusterAdminToken
}

// startGateway starts gateway id, flushing its usage every flush.
func (u *usageCluster) startGateway(t *testing.T, id string, flush time.Duration) {
	t.Helper()
	args := append([]string{"gateway"}, u.common...)
	args = append(args, "--gateway-id", id, "--meter-flush-interval", flush.String(),
		"--shutdown-spread", "100ms", "--conn-count-interval", "100ms")
	u.gws[id] = testenv.StartProc(t, id, u.bin, args...)
}

// join connects a subscriber to gateway gw, on the feed and, if user is
// not empty, the presence room as user.
func (u *usageCluster) join(t *testing.T, gw, user string) *usageSub {
	t.Helper()
	s := &usageSub{p: testenv.MustDialPusher(t, u.gws[gw].URL(), u.key), gw: gw, user: user}
	s.subscribe(t, u, usageFeed, "")
	if user != "" {
		s.subscribe(t, u, usageRoom, fmt.Sprintf(`{"user_id":%q}`, user))
		// The others in the room hear of the newcomer.
		for _, o := range u.subs {
			if o.user != "" && !o.gone {
				o.expect(t, protocol.EventMemberAdded, usageRoom)
			}
		}
	}
	u.subs = append(u.subs, s)
	return s
}

// warmUp puts two subscribers on each gateway, the first of each in the
// presence room as userA and userB if they are not empty, and publishes
// a few rounds.
func (u *usageCluster) warmUp(t *testing.T, userA, userB string) {
	t.Helper()
	u.join(t, "gw-a", userA)
	u.join(t, "gw-a", "")
	u.join(t, "gw-b", userB)
	u.join(t, "gw-b", "")
	for i := range 3 {
		u.round(t, true, fmt.Sprintf("before-%d", i))
	}
}

// subscribe subscribes. The tests subscribe only while nothing is being
// published, so the frames Subscribe skips before its answer count
// nothing.
func (s *usageSub) subscribe(t *testing.T, u *usageCluster, ch, data string) {
	t.Helper()
	if e := s.p.Subscribe(ch, u.key, u.sec, data); e.Event != protocol.EventSubscriptionSucceeded {
		t.Fatalf("subscribe %s: %+v", ch, e)
	}
}

// count adds what a read frame counts (docs/billing.md).
func (s *usageSub) count(e testenv.Event) {
	switch {
	case e.Event == protocol.EventMemberAdded || e.Event == protocol.EventMemberRemoved:
		s.presence++
	case e.Channel != "" && !strings.HasPrefix(e.Event, "pusher:") && !strings.HasPrefix(e.Event, "pusher_internal:"):
		s.delivered++
	}
}

// expect reads until event on channel and counts every frame read.
func (s *usageSub) expect(t *testing.T, event, channel string) {
	t.Helper()
	e, skipped := s.p.Expect(event, channel)
	for _, o := range skipped {
		s.count(o)
	}
	s.count(e)
}

// readUntilClose counts every frame up to the server's close, which must
// be code; code 0 takes any end of the connection (a killed gateway's).
func (s *usageSub) readUntilClose(t *testing.T, code uint16) {
	t.Helper()
	for {
		e, err := s.p.Next()
		var cl testenv.Closed
		switch {
		case err == nil:
			s.count(e)
			continue
		case code == 0:
		case !errors.As(err, &cl):
			t.Fatalf("subscriber on %s: %v", s.gw, err)
		case cl.Code != code:
			t.Fatalf("subscriber on %s closed with %d, want %d", s.gw, cl.Code, code)
		}
		s.gone = true
		return
	}
}

// closed reads the subscribers of gateway gw until their connections
// end (readUntilClose's code).
func (u *usageCluster) closed(t *testing.T, gw string, code uint16) {
	t.Helper()
	for _, s := range u.subs {
		if s.gw == gw && !s.gone {
			s.readUntilClose(t, code)
		}
	}
}

// drain counts whatever still arrives until the subscriber stays quiet
// for clusterQuiet. The connection stays open (a close would send the
// others a member_removed the test does not read) but is not read again.
func (s *usageSub) drain(t *testing.T) {
	t.Helper()
	if s.gone {
		return
	}
	conn := s.p.WS()
	for {
		_ = conn.NetConn().SetReadDeadline(time.Now().Add(clusterQuiet))
		op, payload, err := conn.ReadMessage()
		if err != nil {
			return // quiet for clusterQuiet
		}
		if op != ws.OpText {
			continue
		}
		var e testenv.Event
		if err := json.Unmarshal(payload, &e); err != nil {
			t.Fatalf("server frame is not JSON: %v (%q)", err, payload)
		}
		s.count(e)
	}
}

// live lists the subscribers still connected.
func (u *usageCluster) live() []*usageSub {
	var out []*usageSub
	for _, s := range u.subs {
		if !s.gone {
			out = append(out, s)
		}
	}
	return out
}

// round publishes through every path and waits until every live
// subscriber got what it should: a REST event to the feed and a channel
// nobody listens to (unless rest is false: the control plane is down), a
// client event and a herald:publish (each from a different subscriber,
// which is excluded from its own).
func (u *usageCluster) round(t *testing.T, rest bool, tag string) {
	t.Helper()
	subs := u.live()
	if rest {
		testenv.Trigger(t, u.cp.URL(), u.app, u.key, u.sec, "rest", tag, usageFeed, usageOtherChannel)
		u.published += 2
		for _, s := range subs {
			s.expect(t, "rest", usageFeed)
		}
	}
	sender := subs[0]
	sender.p.Send("client-x", usageFeed, map[string]any{"tag": tag})
	u.published++
	for _, s := range subs[1:] {
		s.expect(t, "client-x", usageFeed)
	}
	u.hpSeq++
	hp := subs[len(subs)-1]
	hp.p.Send(protocol.EventPublish, "", map[string]any{"channel": usageFeed, "event": "hp", "data": tag, "id": fmt.Sprintf("hp-%d", u.hpSeq)})
	hp.expect(t, protocol.EventAck, "")
	u.published++
	for _, s := range subs[:len(subs)-1] {
		s.expect(t, "hp", usageFeed)
	}
}

// idempotentRetries sends one REST publish three times with the same
// Idempotency-Key: it counts 1 and is delivered once.
func (u *usageCluster) idempotentRetries(t *testing.T) {
	t.Helper()
	for range 3 {
		hd := basic(u.key, u.sec)
		hd.Set("Idempotency-Key", "retry-"+u.app)
		body := []byte(`{"name":"retried","data":"r","channel":"` + usageFeed + `"}`)
		if code, resp := isoRequest(t, "POST", u.cp.URL()+"/apps/"+u.app+"/events", body, hd); code != http.StatusOK {
			t.Fatalf("idempotent publish = %d %s", code, resp)
		}
	}
	u.published++
	for _, s := range u.live() {
		s.expect(t, "retried", usageFeed)
	}
}

// finish sends the idempotent retries last, drains the subscribers and
// returns everything they observed.
func (u *usageCluster) finish(t *testing.T) (delivered, presence int64) {
	t.Helper()
	u.idempotentRetries(t)
	for _, s := range u.live() {
		s.drain(t)
	}
	return u.observed("")
}

// observed sums what the subscribers read, of gateway gw ("" for all).
func (u *usageCluster) observed(gw string) (delivered, presence int64) {
	for _, s := range u.subs {
		if gw == "" || s.gw == gw {
			delivered += s.delivered
			presence += s.presence
		}
	}
	return delivered, presence
}

// usage reads the app's totals through the admin usage API at
// granularity g, from a minute before the test to now.
func (u *usageCluster) usage(t *testing.T, g string) controlplane.UsageCounts {
	t.Helper()
	var r controlplane.UsageReport
	q := url.Values{"granularity": {g}, "from": {u.started.Add(-time.Minute).UTC().Format(time.RFC3339)}}
	path := "/admin/v1/apps/" + u.app + "/usage?" + q.Encode()
	if code := u.cp.Admin(t, "GET", path, nil, &r); code != http.StatusOK {
		t.Fatalf("GET %s = %d", path, code)
	}
	return r.Totals
}

// waitUsage polls the usage API at every granularity until ok holds for
// all of them, failing with the last totals after deadline, then checks that it still holds 3 flush intervals later (nothing is
// counted twice).
func (u *usageCluster) waitUsage(t *testing.T, want string, deadline time.Time, ok func(controlplane.UsageCounts) bool) {
	t.Helper()
	granularities := []string{"minute", "hour", "day", "month"}
	var last map[string]controlplane.UsageCounts
	all := func() bool {
		last = map[string]controlplane.UsageCounts{}
		good := true
		for _, g := range granularities {
			last[g] = u.usage(t, g)
			good = good && ok(last[g])
		}
		return good
	}
	start := time.Now()
	for !all() {
		if time.Now().After(deadline) {
			t.Fatalf("usage after %s: %+v; want %s", time.Since(start).Round(time.Millisecond), last, want)
		}
		time.Sleep(clusterFlushInterval / 3)
	}
	m := last["month"]
	t.Logf("usage as wanted %s after the last event: published %d, delivered %d, presence %d, messages %d",
		time.Since(start).Round(time.Millisecond), m.MessagesPublished, m.MessagesDelivered, m.PresenceEvents, m.Messages)
	time.Sleep(3 * clusterFlushInterval)
	if !all() {
		t.Fatalf("usage changed to %+v; want %s", last, want)
	}
}

// TestUsageExactAcrossRestarts: messages published through REST, client
// events and herald:publish to subscribers on two gateways of a 3-node
// NATS cluster, while one gateway is stopped and started again and the
// control plane is SIGKILLed and started again, each a herald binary of
// its own, are counted exactly: the
// usage API shows the published, delivered, presence and messages totals
// the subscribers observed, at every granularity. An idempotent REST
// publish sent three times counts once.
func TestUsageExactAcrossRestarts(t *testing.T) {
	// gw-b's first run flushes only when it stops (or at a minute
	// boundary): its deliveries reach the usage through its final flush.
	u := newUsageCluster(t, "usage-restarts", time.Hour)
	u.warmUp(t, "ann", "ben")

	// gw-b stops gracefully: its subscribers are closed with 4200 and
	// ann hears ben leave; then they come back on gw-b started again.
	if err := u.gws["gw-b"].Stop(t, syscall.SIGTERM); err != nil {
		t.Fatalf("gw-b after SIGTERM: %v", err)
	}
	u.closed(t, "gw-b", 4200)
	u.subs[0].expect(t, protocol.EventMemberRemoved, usageRoom)
	u.startGateway(t, "gw-b", clusterFlushInterval)
	waitKey(t, []testenv.Node{u.gws["gw-b"]}, u.key)
	u.join(t, "gw-b", "ben")
	u.join(t, "gw-b", "")
	for i := range 2 {
		u.round(t, true, fmt.Sprintf("after-stop-%d", i))
	}

	// The control plane is killed: REST is down, the gateways go on.
	killed := time.Now()
	_ = u.cp.Stop(t, syscall.SIGKILL)
	for i := range 3 {
		u.round(t, false, fmt.Sprintf("cp-down-%d", i))
	}
	u.startControlPlane(t)
	for i := range 2 {
		u.round(t, true, fmt.Sprintf("cp-back-%d", i))
	}
	delivered, presence := u.finish(t)
	want := fmt.Sprintf("published %d, delivered %d, presence %d, messages %d", u.published, delivered, presence, u.published+delivered+presence)
	t.Logf("want %s", want)
	// The killed control plane's folders may have died holding a batch of
	// the published counter or the aggregator: JetStream delivers it again
	// only after the consumers' ack wait (--meter-ack-wait, short here;
	// docs/billing.md). Until then usage lags, past 2 flush intervals.
	deadline := time.Now().Add(clusterUsageDeadline)
	if redelivered := killed.Add(clusterAckWait + clusterUsageDeadline); redelivered.After(deadline) {
		deadline = redelivered
	}
	u.waitUsage(t, want, deadline, func(c controlplane.UsageCounts) bool {
		return c.MessagesPublished == u.published && c.MessagesDelivered == delivered &&
			c.PresenceEvents == presence && c.Messages == u.published+delivered+presence
	})
}

// TestUsageGatewayKill: a SIGKILLed gateway loses at most its last flush
// interval of deliveries; what was published is still exact. Before the
// kill everything is flushed (the test waits), then a burst goes to the
// gateway's subscribers right before it dies: its deliveries may be lost,
// nothing else.
func TestUsageGatewayKill(t *testing.T) {
	u := newUsageCluster(t, "usage-kill", clusterFlushInterval)
	u.warmUp(t, "", "")
	// Long enough for gw-b's flushes to carry everything so far.
	time.Sleep(3 * clusterFlushInterval)
	before, _ := u.observed("gw-b")

	for i := range 3 {
		u.round(t, true, fmt.Sprintf("burst-%d", i))
	}
	_ = u.gws["gw-b"].Stop(t, syscall.SIGKILL)
	u.closed(t, "gw-b", 0)
	afterKill, _ := u.observed("gw-b")
	mayLose := afterKill - before

	// Publishing goes on through gw-a.
	for i := range 2 {
		u.round(t, true, fmt.Sprintf("after-kill-%d", i))
	}
	delivered, _ := u.finish(t)
	want := fmt.Sprintf("published %d, delivered in [%d, %d]", u.published, delivered-mayLose, delivered)
	t.Logf("want %s (gw-b wrote %d in its last interval)", want, mayLose)
	u.waitUsage(t, want, time.Now().Add(clusterUsageDeadline), func(c controlplane.UsageCounts) bool {
		return c.MessagesPublished == u.published &&
			c.MessagesDelivered >= delivered-mayLose && c.MessagesDelivered <= delivered
	})
}

package webhookstate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/bus/webhookstate"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

func TestMain(m *testing.M) { testinfra.Main(m) }

// Timings of the integration tests: second-scale, as the TTLs allow.
const (
	leaveDelay = 700 * time.Millisecond
	settle     = 100 * time.Millisecond
	// quiet is how long the tests wait to be sure nothing more comes: a
	// leave delay and its settling, with room to spare.
	quiet       = 2 * time.Second
	testTimeout = 20 * time.Second
)

// fakeGateway is a gateway's share of channels, reported by a Reporter,
// with its registry entry, on a connection of its own.
type fakeGateway struct {
	mu     sync.Mutex
	shares map[webhookstate.ChannelRef]webhookstate.Value
	r      *webhookstate.Reporter
	// kill ends the gateway as a crash would: nothing it would clean up
	// reaches NATS, and its registry entry expires.
	kill func()
	// stop stops its reporter cleanly.
	stop func()
}

func (g *fakeGateway) snapshot(ref webhookstate.ChannelRef) (webhookstate.Value, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.shares[ref]
	return v, ok
}

// set changes the gateway's share of a channel (subs 0 removes it).
func (g *fakeGateway) set(ch string, subs int64, users ...string) {
	ref := webhookstate.ChannelRef{AppID: "app", Channel: ch}
	g.mu.Lock()
	if subs == 0 {
		delete(g.shares, ref)
	} else {
		g.shares[ref] = webhookstate.Value{Subscriptions: subs, Users: users}
	}
	g.mu.Unlock()
	g.r.Mark(ref)
}

// env is a NATS server with the bucket, the stream and the registry.
type env struct {
	srv *natsembed.Server
	js  jetstream.JetStream
	// countInterval is the deciders' subscription_count interval: long
	// enough by default that only a channel's first count is sent.
	countInterval time.Duration
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := testinfra.NATS(t)
	js := testinfra.JetStream(t, testinfra.NATSConn(t, srv))
	ctx := t.Context()
	if err := webhookstate.EnsureBucket(ctx, js, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := webhookevents.EnsureStream(ctx, js, webhookevents.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := gateways.EnsureBucket(ctx, js, 1, time.Second); err != nil {
		t.Fatal(err)
	}
	return &env{srv: srv, js: js, countInterval: time.Hour}
}

// gateway registers a gateway and runs its reporter until the test ends.
func (e *env) gateway(t testing.TB, id string) *fakeGateway {
	t.Helper()
	nc := testinfra.NATSConn(t, e.srv)
	js := testinfra.JetStream(t, nc)
	reg, err := gateways.Register(t.Context(), gateways.Config{JS: js, ID: id, TTL: time.Second, HeartbeatInterval: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGateway{shares: map[webhookstate.ChannelRef]webhookstate.Value{}}
	g.r, err = webhookstate.NewReporter(webhookstate.ReporterConfig{JS: js, GatewayID: id, Snapshot: g.snapshot, MarkerTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	stopReg := background(t, func(ctx context.Context) { reg.Run(ctx) })
	stopReporter := background(t, g.r.Run)
	g.kill = func() { nc.Close(); stopReg(); stopReporter() }
	g.stop = stopReporter
	return g
}

// decider runs a decider and its emitter until the test ends.
func (e *env) decider(t testing.TB) *webhookstate.Decider {
	return e.deciderWith(t, leaveDelay)
}

func (e *env) deciderWith(t testing.TB, leave time.Duration) *webhookstate.Decider {
	d, _ := e.startDecider(t, leave)
	return d
}

// runDecider runs a decider until the returned stop is called.
func (e *env) runDecider(t testing.TB, leave time.Duration) (stop func()) {
	_, stop = e.startDecider(t, leave)
	return stop
}

func (e *env) startDecider(t testing.TB, leave time.Duration) (*webhookstate.Decider, func()) {
	t.Helper()
	d, err := webhookstate.NewDecider(webhookstate.DeciderConfig{
		JS: e.js, Wants: func(string, channels.WebhookEventName) bool { return true },
		LeaveDelay: leave, CountInterval: e.countInterval, Settle: settle, SweepInterval: time.Second, MarkerTTL: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	stop := background(t, func(ctx context.Context) {
		if err := d.Run(ctx); err != nil {
			t.Errorf("decider: %v", err)
		}
	})
	select {
	case <-d.Ready():
	case <-time.After(testTimeout):
		t.Fatal("decider not ready")
	}
	return d, stop
}

// background runs f until the returned stop is called or the test ends.
func background(t testing.TB, f func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// events reads every event the stream holds, as "<kind> <channel>
// [user|count]", in stream order.
func (e *env) events(t *testing.T) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	s, err := e.js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := uint64(1); ; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		env, err := webhookevents.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, eventString(env.Event))
	}
}

func eventString(e channels.WebhookEvent) string {
	s := string(e.Name) + " " + e.Channel
	if e.UserID != "" {
		s += " " + e.UserID
	}
	if e.SubscriptionCount != nil {
		s += fmt.Sprintf(" %d", *e.SubscriptionCount)
	}
	return s
}

// expect waits until the stream holds exactly want, and still does after
// a quiet period. Different channels' events may interleave; each
// channel's must be in order.
func (e *env) expect(t *testing.T, what string, want ...string) {
	t.Helper()
	var got []string
	testinfra.WaitUntilWithin(t, what, testTimeout, func() bool {
		got = e.events(t)
		return len(got) >= len(want)
	})
	time.Sleep(quiet)
	if got = e.events(t); !slices.Equal(testinfra.PerChannel(got), testinfra.PerChannel(want)) {
		t.Fatalf("%s: events\n  %s\nwant\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// Two deciders (two control planes) and two gateways: occupancy and
// membership are cluster-wide, a quick return through the other gateway
// cancels the pair, every transition is stored once, and a gateway that
// dies has its channels vacated once its registry entry expires.
func TestDecider(t *testing.T) {
	e := newEnv(t)
	e.decider(t)
	e.decider(t)
	g1, g2 := e.gateway(t, "gw-1"), e.gateway(t, "gw-2")

	g1.set("chat", 1)
	g2.set("chat", 1)
	g1.set("presence-room", 1, "ann")
	g2.set("presence-room", 1, "ann", "ben")
	want := []string{
		"channel_occupied chat", "subscription_count chat 1",
		"channel_occupied presence-room", "member_added presence-room ann", "member_added presence-room ben",
	}
	e.expect(t, "occupied on both gateways", want...)

	g1.set("chat", 0)                 // chat stays on gw-2
	g2.set("presence-room", 1, "ben") // ann stays on gw-1
	e.expect(t, "one of two leaves", want...)

	// chat leaves gw-2 and returns through gw-1 within the delay.
	g2.set("chat", 0)
	time.Sleep(leaveDelay / 4)
	g1.set("chat", 1)
	e.expect(t, "a quick return", want...)

	g1.set("presence-room", 0)
	want = append(want, "member_removed presence-room ann")
	e.expect(t, "ann's last connection leaves", want...)

	// gw-2 dies holding both channels: no clean stop reaches NATS.
	g2.set("dead-end", 1)
	want = append(want, "channel_occupied dead-end", "subscription_count dead-end 1")
	e.expect(t, "a channel on the gateway about to die", want...)
	g2.kill()
	want = append(want, "channel_vacated dead-end", "member_removed presence-room ben", "channel_vacated presence-room")
	e.expect(t, "the dead gateway's channels vacated", want...)
}

// A decider that starts after none ran reports what changed meanwhile,
// from what its predecessor reported (the view) and the state now; what
// did not change is not reported again.
func TestDeciderResumes(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "gw-1")
	stop := e.runDecider(t, leaveDelay)
	g.set("stays", 1)
	g.set("goes", 1)
	g.set("presence-p", 1, "ann", "ben")
	want := []string{
		"channel_occupied stays", "subscription_count stays 1", "channel_occupied goes", "subscription_count goes 1",
		"channel_occupied presence-p", "member_added presence-p ann", "member_added presence-p ben",
	}
	e.expect(t, "before the stop", want...)
	stop()

	// While no decider runs.
	g.set("goes", 0)
	g.set("comes", 1)
	g.set("presence-p", 1, "ben", "cid")
	kv, err := e.js.KeyValue(t.Context(), webhookstate.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "the gateway's writes", func() bool {
		_, gone := kv.Get(t.Context(), keyOf("gw-1", "goes"))
		_, come := kv.Get(t.Context(), keyOf("gw-1", "comes"))
		return errors.Is(gone, jetstream.ErrKeyNotFound) && come == nil
	})
	time.Sleep(settle) // the presence write is in the same round

	e.decider(t)
	want = append(want, "channel_occupied comes", "member_added presence-p cid",
		"member_removed presence-p ann", "channel_vacated goes")
	e.expect(t, "after the restart", want...)
}

// subscription_count is the sum of every gateway's count, sent at once
// when the channel's last count is an interval old, never for presence
// channels and never 0.
func TestDeciderCounts(t *testing.T) {
	e := newEnv(t)
	e.countInterval = 300 * time.Millisecond
	g1, g2 := e.gateway(t, "gw-1"), e.gateway(t, "gw-2")
	e.decider(t)
	var want []string
	step := func(what string, f func(), events ...string) {
		t.Helper()
		time.Sleep(e.countInterval) // the last count is an interval old
		f()
		want = append(want, events...)
		e.expect(t, what, want...)
	}
	step("first subscribers", func() { g1.set("c", 2); g1.set("presence-p", 2, "ann") },
		"channel_occupied c", "subscription_count c 2", "channel_occupied presence-p", "member_added presence-p ann")
	step("more on the other gateway", func() { g2.set("c", 3); g2.set("presence-p", 4, "ann") },
		"subscription_count c 5")
	step("one gateway leaves", func() { g1.set("c", 0) }, "subscription_count c 3")
	step("the last leaves", func() { g2.set("c", 0) }, "channel_vacated c")
}

// A NATS restart makes the decider watch again and reload the bucket:
// what did not change makes no event, and what changes afterwards does.
func TestDeciderAfterNATSRestart(t *testing.T) {
	e := newEnv(t)
	g := e.gateway(t, "gw-1")
	e.decider(t)
	g.set("presence-p", 1, "ann")
	want := []string{"channel_occupied presence-p", "member_added presence-p ann"}
	e.expect(t, "before the restart", want...)

	e.srv = testinfra.RestartNATS(t, e.srv)
	g.set("presence-p", 1, "ann", "ben")
	want = append(want, "member_added presence-p ben")
	e.expect(t, "after the restart", want...)
}

package presence_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/natsembed"
	"github.com/heraldhq/herald/internal/testinfra"
)

const (
	// eventTimeout bounds every wait for an event; generous because the
	// test machine is small, shared, and runs with -race.
	eventTimeout = 15 * time.Second
	testApp      = "app1"
)

// testConfig has second-scale TTLs; tests that measure them override.
func testConfig() presence.Config {
	return presence.Config{
		MemberTTL:         10 * time.Second,
		GatewayTTL:        3 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond,
		MarkerTTL:         5 * time.Second,
		SnapshotBatch:     64,
	}
}

// gateway is one Presence with its own two connections, running.
type gateway struct {
	*presence.Presence
	id   string
	nc   *nats.Conn // subscriptions and Direct Get
	jsnc *nats.Conn // JetStream writes
	stop func() error
}

// startGateway starts a gateway called id on srv; mod adjusts its config.
// Cleanup stops it cleanly (if it still can) before its connections close.
func startGateway(tb testing.TB, srv *natsembed.Server, id string, mod func(*presence.Config), ncOpts ...nats.Option) *gateway {
	tb.Helper()
	nc := testinfra.NATSConn(tb, srv, ncOpts...)
	jsnc := testinfra.NATSConn(tb, srv)
	cfg := testConfig()
	cfg.JS, cfg.NC, cfg.GatewayID, cfg.Logger = testinfra.JetStream(tb, jsnc), nc, id, testinfra.TBLogger(tb, slog.LevelWarn)
	if mod != nil {
		mod(&cfg)
	}
	p, err := presence.New(tb.Context(), cfg)
	if err != nil {
		tb.Fatalf("new presence %s: %v", id, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			runErr = <-done
		})
		return runErr
	}
	tb.Cleanup(func() { _ = stop() })
	return &gateway{Presence: p, id: id, nc: nc, jsnc: jsnc, stop: stop}
}

// watched is two gateways on one server: B watches a channel in which A
// holds member u1 (socket 1.1).
type watched struct {
	a, b *gateway
	rec  *recorder
	rb   *presence.Roster
}

// watchedPair starts gwA and gwB on srv with mod (and B's connection with
// bOpts), opens ch on B, joins u1 on A and waits until B has seen it.
func watchedPair(tb testing.TB, srv *natsembed.Server, ch string, mod func(*presence.Config), bOpts ...nats.Option) watched {
	tb.Helper()
	w := watched{a: startGateway(tb, srv, "gwA", mod), b: startGateway(tb, srv, "gwB", mod, bOpts...), rec: newRecorder()}
	w.rb = w.b.open(tb, ch, w.rec)
	w.a.join(tb, ch, "1.1", "u1", "")
	w.rec.expect(tb, "+u1 gwA/1.1")
	return w
}

// kill makes g vanish as a SIGKILLed process would: its connections close
// before Run stops, so its clean stop cannot reach NATS.
func (g *gateway) kill(tb testing.TB) {
	tb.Helper()
	g.nc.Close()
	g.jsnc.Close()
	if err := g.stop(); err == nil {
		tb.Errorf("run of killed gateway %s stopped cleanly", g.id)
	}
}

func (g *gateway) join(tb testing.TB, channel, socketID, userID string, info string) {
	tb.Helper()
	m := presence.Member{UserID: userID}
	if info != "" {
		m.UserInfo = json.RawMessage(info)
	}
	if err := g.Join(tb.Context(), testApp, channel, socketID, m); err != nil {
		tb.Fatalf("%s join %s %s: %v", g.id, socketID, userID, err)
	}
}

func (g *gateway) leave(tb testing.TB, channel, socketID string) {
	tb.Helper()
	if err := g.Leave(tb.Context(), testApp, channel, socketID); err != nil {
		tb.Fatalf("%s leave %s: %v", g.id, socketID, err)
	}
}

func (g *gateway) open(tb testing.TB, channel string, h presence.Handler) *presence.Roster {
	tb.Helper()
	r, err := g.Open(tb.Context(), testApp, channel, h)
	if err != nil {
		tb.Fatalf("%s open %s: %v", g.id, channel, err)
	}
	tb.Cleanup(r.Close)
	return r
}

// recorder is a Handler that records events as "+user gw/socket" and
// "-user".
type recorder struct{ ch chan string }

func newRecorder() *recorder { return &recorder{ch: make(chan string, 1<<14)} }

func (r *recorder) MemberAdded(userID string, _ json.RawMessage, by presence.ConnRef) {
	r.ch <- fmt.Sprintf("+%s %s/%s", userID, by.GatewayID, by.SocketID)
}

func (r *recorder) MemberRemoved(userID string) { r.ch <- "-" + userID }

// expect checks that the next events are want, in order.
func (r *recorder) expect(tb testing.TB, want ...string) {
	tb.Helper()
	for _, w := range want {
		select {
		case got := <-r.ch:
			if got != w {
				tb.Fatalf("event = %q, want %q", got, w)
			}
		case <-time.After(eventTimeout):
			tb.Fatalf("no event within %s, want %q", eventTimeout, w)
		}
	}
}

// expectSet checks that the next len(want) events are want, in any order.
func (r *recorder) expectSet(tb testing.TB, want ...string) {
	tb.Helper()
	left := make(map[string]int)
	for _, w := range want {
		left[w]++
	}
	for range want {
		select {
		case got := <-r.ch:
			if left[got] == 0 {
				tb.Fatalf("unexpected event %q; still waiting for %v", got, left)
			}
			left[got]--
		case <-time.After(eventTimeout):
			tb.Fatalf("no event within %s; still waiting for %v", eventTimeout, left)
		}
	}
}

var sentinelN atomic.Int64

// barrier proves that no event is pending: a fresh user's connection is
// written straight to the bucket (not through a Presence, whose Join
// applies locally at once), every recorder's next event must be its
// arrival, then it is deleted again. Updates come back from the bucket to
// every roster in stream order, so an earlier event would come first.
func barrier(tb testing.TB, g *gateway, channel string, recs ...*recorder) {
	tb.Helper()
	n := sentinelN.Add(1)
	user := fmt.Sprintf("~barrier%d", n)
	key := fmt.Sprintf("%s.%s.gwBarrier.999999_%d", testApp, channels.SubjectToken(channel), n)
	kv := memberKV(tb, g)
	if _, err := kv.Put(tb.Context(), key, []byte(`{"user_id":"`+user+`"}`)); err != nil {
		tb.Fatalf("barrier put: %v", err)
	}
	for _, r := range recs {
		r.expect(tb, fmt.Sprintf("+%s gwBarrier/999999.%d", user, n))
	}
	if err := kv.Purge(tb.Context(), key); err != nil {
		tb.Fatalf("barrier purge: %v", err)
	}
	for _, r := range recs {
		r.expect(tb, "-"+user)
	}
}

// userIDs lists a roster's members' user ids.
func userIDs(r *presence.Roster) []string {
	var out []string
	for _, m := range r.Members() {
		out = append(out, m.UserID)
	}
	return out
}

func memberKV(tb testing.TB, g *gateway) jetstream.KeyValue {
	tb.Helper()
	kv, err := testinfra.JetStream(tb, g.jsnc).KeyValue(tb.Context(), presence.MemberBucket)
	if err != nil {
		tb.Fatalf("open member bucket: %v", err)
	}
	return kv
}

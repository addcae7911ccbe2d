package presence_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/heraldhq/herald/bus/gateways"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/presence"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestKilledGatewayMembersRemoved: a gateway that dies without cleaning up
// loses its members on every other gateway about GatewayTTL later, long
// before their own TTL would remove them.
func TestKilledGatewayMembersRemoved(t *testing.T) {
	const gatewayTTL = 2 * time.Second
	short := func(c *presence.Config) {
		c.GatewayTTL, c.HeartbeatInterval = gatewayTTL, 400*time.Millisecond
		c.MemberTTL = 60 * time.Second
	}
	srv := testinfra.NATS(t)
	a := startGateway(t, srv, "gwA", short)
	b := startGateway(t, srv, "gwB", short)
	c := startGateway(t, srv, "gwC", short)
	const ch = "presence-kill"
	recB, recC := newRecorder(), newRecorder()
	rb := b.open(t, ch, recB)
	rc := c.open(t, ch, recC)
	a.join(t, ch, "1.1", "u1", "")
	a.join(t, ch, "1.2", "u2", "")
	for _, r := range []*recorder{recB, recC} {
		r.expect(t, "+u1 gwA/1.1", "+u2 gwA/1.2")
	}
	// Joined only once every roster has A's u2, so that B's connection is
	// the second one everywhere: u2 stays when A dies.
	b.join(t, ch, "2.1", "u2", "")
	testinfra.WaitUntil(t, "registry lists gwA", func() bool {
		return slices.ContainsFunc(b.Gateways(), func(g gateways.Gateway) bool { return g.ID == "gwA" })
	})

	start := time.Now()
	a.kill(t)
	recB.expect(t, "-u1")
	recC.expect(t, "-u1")
	took := time.Since(start)
	// The registry key expires at most GatewayTTL after the last
	// heartbeat; the rest is the janitor's round trips.
	if deadline := gatewayTTL + 3*time.Second; took > deadline {
		t.Fatalf("members removed after %s, want within %s", took, deadline)
	}
	t.Logf("dead gateway's members removed after %s (GatewayTTL %s)", took, gatewayTTL)
	barrier(t, b, ch, recB, recC) // and u2 did not leave
	for _, r := range []*presence.Roster{rb, rc} {
		if got := userIDs(r); !slices.Equal(got, []string{"u2"}) {
			t.Fatalf("members = %v, want [u2]", got)
		}
	}
	// The janitor's deletes are one asynchronous batch: seeing u1 leave
	// proves the first was stored, not yet the second.
	kv := memberKV(t, b)
	for _, sock := range []string{"1_1", "1_2"} {
		key := testApp + "." + channels.SubjectToken(ch) + ".gwA." + sock
		testinfra.WaitUntil(t, key+" deleted by the janitor", func() bool {
			_, err := kv.Get(t.Context(), key)
			return errors.Is(err, jetstream.ErrKeyNotFound)
		})
	}
	if slices.ContainsFunc(b.Gateways(), func(g gateways.Gateway) bool { return g.ID == "gwA" }) {
		t.Fatal("registry still lists gwA")
	}
}

// TestCleanStop: stopping Run deletes the gateway's members, which every
// roster sees leave, and its registry entry.
func TestCleanStop(t *testing.T) {
	srv := testinfra.NATS(t)
	const ch = "presence-stop"
	w := watchedPair(t, srv, ch, nil)
	a, b, rec, rb := w.a, w.b, w.rec, w.rb
	a.join(t, ch, "1.2", "u1", "")
	a.join(t, ch, "1.3", "u2", "")
	rec.expect(t, "+u2 gwA/1.3")

	if err := a.stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	rec.expectSet(t, "-u1", "-u2")
	if n := rb.UserCount(); n != 0 {
		t.Fatalf("user count after stop = %d", n)
	}
	kv := memberKV(t, b)
	for _, sock := range []string{"1_1", "1_2", "1_3"} {
		key := testApp + "." + channels.SubjectToken(ch) + ".gwA." + sock
		if _, err := kv.Get(t.Context(), key); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("get %s after stop: %v", key, err)
		}
	}
	reg, err := testinfra.JetStream(t, b.jsnc).KeyValue(t.Context(), gateways.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Get(t.Context(), "gwA"); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("registry entry after stop: %v", err)
	}
	if err := a.Join(t.Context(), testApp, ch, "1.4", presence.Member{UserID: "u3"}); !errors.Is(err, presence.ErrStopped) {
		t.Fatalf("Join after stop = %v, want ErrStopped", err)
	}
}

// TestLeaseRenewed: a member outlives several MemberTTLs while its gateway
// runs.
func TestLeaseRenewed(t *testing.T) {
	const memberTTL = 2 * time.Second
	short := func(c *presence.Config) { c.MemberTTL, c.MarkerTTL = memberTTL, memberTTL }
	srv := testinfra.NATS(t)
	const ch = "presence-lease"
	w := watchedPair(t, srv, ch, short)
	a, rec, rb := w.a, w.rec, w.rb
	kv := memberKV(t, a)
	key := testApp + "." + channels.SubjectToken(ch) + ".gwA.1_1"
	first, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	// Watch the key for three TTLs: it must never be missing. The TTL is
	// NATS's, in real time, so the time must really pass.
	for end := time.Now().Add(3 * memberTTL); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if _, err := kv.Get(t.Context(), key); err != nil {
			t.Fatalf("key lost while its gateway runs: %v", err)
		}
		select {
		case ev := <-rec.ch:
			t.Fatalf("unexpected event %q", ev)
		default:
		}
	}
	last, err := kv.Get(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if last.Revision() <= first.Revision() {
		t.Fatalf("key not renewed: revision %d, first %d", last.Revision(), first.Revision())
	}
	if !rb.Has("u1") {
		t.Fatal("u1 gone from B's roster")
	}
}

// TestExpiryMarkerRemovesMember: a key nobody renews expires, and the
// server's delete marker, republished, removes the member. It also pins
// the RePublish transform: $KV.HERALD_PRESENCE.<key> -> herald.presence.<key>.
func TestExpiryMarkerRemovesMember(t *testing.T) {
	srv := testinfra.NATS(t)
	b := startGateway(t, srv, "gwB", nil)
	const ch = "presence-ghost"
	rec := newRecorder()
	b.open(t, ch, rec)
	key := testApp + "." + channels.SubjectToken(ch) + ".gwGhost.5_5"
	raw, err := b.nc.SubscribeSync(presence.EventSubjectPrefix + ".>")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	js := testinfra.JetStream(t, b.jsnc)
	if _, err := js.Publish(t.Context(), "$KV."+presence.MemberBucket+"."+key,
		[]byte(`{"user_id":"ghost","user_info":null}`), jetstream.WithMsgTTL(time.Second)); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "+ghost gwGhost/5.5")
	put := nextMsg(t, raw)
	if want := presence.EventSubjectPrefix + "." + key; put.Subject != want {
		t.Fatalf("republished to %q, want %q", put.Subject, want)
	}
	if got := put.Header.Get(jetstream.SubjectHeader); got != "$KV."+presence.MemberBucket+"."+key {
		t.Fatalf("Nats-Subject = %q", got)
	}
	rec.expect(t, "-ghost")
	marker := nextMsg(t, raw)
	if marker.Subject != put.Subject || marker.Header.Get(jetstream.MarkerReasonHeader) != "MaxAge" {
		t.Fatalf("marker: subject %q, headers %v", marker.Subject, marker.Header)
	}
}

func nextMsg(tb testing.TB, sub *nats.Subscription) *nats.Msg {
	tb.Helper()
	m, err := sub.NextMsg(eventTimeout)
	if err != nil {
		tb.Fatalf("next message: %v", err)
	}
	return m
}

// TestResyncAfterReconnect: updates published while a gateway's
// subscription connection was down reach its roster after it reconnects.
func TestResyncAfterReconnect(t *testing.T) {
	srv := testinfra.NATS(t)
	release := make(chan struct{})
	hold := nats.CustomReconnectDelay(func(int) time.Duration {
		select {
		case <-release:
		case <-time.After(eventTimeout):
		}
		return 0
	})
	const ch = "presence-resync"
	w := watchedPair(t, srv, ch, nil, hold)
	a, b, rec, rb := w.a, w.b, w.rec, w.rb

	cid, err := b.nc.GetClientID()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.NATSServer().DisconnectClientByID(cid); err != nil {
		t.Fatal(err)
	}
	testinfra.WaitUntil(t, "B disconnected", func() bool { return !b.nc.IsConnected() })
	a.leave(t, ch, "1.1")
	a.join(t, ch, "1.9", "u9", `{"late":true}`)
	close(release)
	// Whether these come from the resync's difference or from live updates
	// after it, their order is not defined.
	rec.expectSet(t, "-u1", "+u9 gwA/1.9")
	if got := userIDs(rb); !slices.Equal(got, []string{"u9"}) {
		t.Fatalf("members after resync = %v", got)
	}
	barrier(t, a, ch, rec)
}

// TestFalselyDeclaredDead: a gateway whose registry entry vanished while it
// still runs (a long pause or a partition) registers again and rewrites
// the members a janitor may have deleted.
func TestFalselyDeclaredDead(t *testing.T) {
	srv := testinfra.NATS(t)
	fast := func(c *presence.Config) { c.MemberTTL = 3 * time.Second } // renewals every second
	const ch = "presence-partition"
	w := watchedPair(t, srv, ch, fast)
	b, rec, rb := w.b, w.rec, w.rb
	reg, err := testinfra.JetStream(t, b.jsnc).KeyValue(t.Context(), gateways.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Purge(t.Context(), "gwA"); err != nil {
		t.Fatal(err)
	}
	// Whether B's janitor got to A's members first or not, A ends up
	// registered with its member back.
	testinfra.WaitUntil(t, "gwA registered again", func() bool {
		_, err := reg.Get(t.Context(), "gwA")
		return err == nil
	})
	key := testApp + "." + channels.SubjectToken(ch) + ".gwA.1_1"
	testinfra.WaitUntil(t, "gwA's member in the bucket and in B's roster", func() bool {
		_, err := memberKV(t, b).Get(t.Context(), key)
		return err == nil && rb.Has("u1")
	})
	// If the janitor won the race the member left and came back; its
	// events may come before or after any check we make. Read until a
	// sentinel written now has arrived and every leave of u1 was followed
	// by its return: the events must alternate -u1, +u1, ….
	sentinel := testApp + "." + channels.SubjectToken(ch) + ".gwBarrier.999999_77"
	kv := memberKV(t, b)
	if _, err := kv.Put(t.Context(), sentinel, []byte(`{"user_id":"~sentinel"}`)); err != nil {
		t.Fatal(err)
	}
	var seen []string
	sentinelSeen := false
	for !sentinelSeen || len(seen)%2 == 1 {
		select {
		case ev := <-rec.ch:
			if strings.HasPrefix(ev, "+~sentinel") {
				sentinelSeen = true
				continue
			}
			want := "-u1"
			if len(seen)%2 == 1 {
				want = "+u1 gwA/1.1"
			}
			if ev != want {
				t.Fatalf("event %q after %v, want %q", ev, seen, want)
			}
			seen = append(seen, ev)
		case <-time.After(eventTimeout):
			t.Fatalf("events did not settle: sentinel %v, %v", sentinelSeen, seen)
		}
	}
	if err := kv.Purge(t.Context(), sentinel); err != nil {
		t.Fatal(err)
	}
	rec.expect(t, "-~sentinel")
	if !rb.Has("u1") {
		t.Fatal("u1 is not a member after the dust settled")
	}
}

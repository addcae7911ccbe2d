package gateway

import (
	"encoding/json"
	"hash/maphash"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// A terminated connection gets the pusher:error pusher-js knows (code
// 4009, then close 4009, on which it does not reconnect) plus the
// "reason" that tells Herald's SDKs not to come back with a new token
// either; another user's connection stays open.
func TestTerminateUserMarksTheCloseFinal(t *testing.T) {
	t.Parallel()
	g := terminateGateway(t)
	kicked, other := userTokenConn(g, "ann"), userTokenConn(g, "bob")
	g.register(kicked)
	g.register(other)
	if n := (controlSource{g}).TerminateUser("a", "ann"); n != 1 {
		t.Fatalf("terminated %d connections, want 1", n)
	}
	q := queued(kicked)
	if len(q) != 1 {
		t.Fatalf("queued %q, want one pusher:error", q)
	}
	var outer struct{ Event, Data string }
	if err := json.Unmarshal(q[0], &outer); err != nil {
		t.Fatalf("%s: %v", q[0], err)
	}
	var data struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Reason  string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(outer.Data), &data); err != nil {
		t.Fatalf("data %s: %v", outer.Data, err)
	}
	if outer.Event != protocol.EventError || data.Code != int(channels.PusherUnauthorized) ||
		data.Message != terminateMessage || data.Reason != terminateReason {
		t.Fatalf("queued %s", q[0])
	}
	kicked.mu.Lock()
	closing, cf := kicked.closing, kicked.closeFrame
	kicked.mu.Unlock()
	if !closing || cf == nil || cf.code != uint16(channels.PusherUnauthorized) {
		t.Fatalf("closing %v with %+v, want close 4009", closing, cf)
	}
	other.mu.Lock()
	defer other.mu.Unlock()
	if other.closing || len(other.queue) != 0 {
		t.Fatal("another user's connection was touched")
	}
}

// A terminate reaches the connections made before it, even one registered
// only after it (a WebSocket is told it is connected before it
// registers), and none made after it.
func TestTerminateReachesAConnectionRegisteredAfterIt(t *testing.T) {
	t.Parallel()
	g := terminateGateway(t)
	told, other := userTokenConn(g, "ann"), userTokenConn(g, "bob")
	if n := (controlSource{g}).TerminateUser("a", "ann"); n != 0 {
		t.Fatalf("terminated %d registered connections, want 0", n)
	}
	later := userTokenConn(g, "ann")
	for _, c := range []*conn{told, other, later} {
		g.register(c)
	}
	for _, tc := range []struct {
		name   string
		c      *conn
		closed bool
	}{
		{"made before, registered after", told, true},
		{"another user", other, false},
		{"made after the terminate", later, false},
	} {
		tc.c.mu.Lock()
		closing := tc.c.closing
		tc.c.mu.Unlock()
		if closing != tc.closed {
			t.Errorf("%s: closing = %v, want %v", tc.name, closing, tc.closed)
		}
	}
	if q := queued(told); len(q) != 1 || !strings.Contains(string(q[0]), terminateReason) {
		t.Fatalf("terminated connection queued %q, want the terminate error", q)
	}
}

// terminateGateway is a gateway with a connection table and no transport.
func terminateGateway(t *testing.T) *Gateway {
	g := benchGateway(t)
	g.connSeed = maphash.MakeSeed()
	g.initConnTable()
	return g
}

// userTokenConn is a held connection of app "a" with an hour's token of
// sub user.
func userTokenConn(g *Gateway, user string) *conn {
	c := heldConn(g, testClaims(user, time.Now().Add(time.Hour), nil))
	c.appID = "a"
	return c
}

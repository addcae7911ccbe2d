package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/stream"
)

// TestBroadcastParts: a fan-out split into parts or not hands exactly one
// copy to every subscriber but the skipped one, and counts them.
func TestBroadcastParts(t *testing.T) {
	for _, n := range []int{1, fanoutPartMin - 1, 2 * fanoutPartMin, 10*fanoutPartMin + 7} {
		t.Run(fmt.Sprintf("subscribers=%d", n), func(t *testing.T) {
			g := benchGateway(t)
			conns := make([]*conn, n)
			for i := range conns {
				// A writer marked running: frames stay in the queue.
				conns[i] = &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, writing: true}
			}
			subscribeAll(t, g, benchChannel, conns)
			cs := g.hub.get(chanKey{app: benchApp, name: benchChannel})
			skip := conns[n/2].socketID
			for round := 1; round <= 3; round++ {
				got := cs.broadcast(heldFrame{serial: uint64(round), frame: []byte{0x81, 0}}, skip, round == 2)
				if got != n-1 {
					t.Fatalf("round %d: %d copies, want %d", round, got, n-1)
				}
				for i, c := range conns {
					want := round
					if c.socketID == skip {
						want = 0
					}
					if len(c.queue) != want {
						t.Fatalf("round %d: subscriber %d holds %d frames, want %d", round, i, len(c.queue), want)
					}
				}
			}
		})
	}
}

// TestFanoutBehind: a fan-out of a busy channel only queues when messages
// wait behind it or its message is old, and keeps doing so for
// fanoutBehindHold after; a channel whose previous message is older than
// that keeps writing directly.
func TestFanoutBehind(t *testing.T) {
	const busy, quiet = fanoutBehindHold / 10, 2 * fanoutBehindHold
	now := time.Now()
	cases := []struct {
		name  string
		d     stream.Delivery
		prev  time.Duration // how long ago the channel's previous fan-out started; 0: none
		held  bool          // a fan-out was behind just before
		want  bool
		holds bool // this one starts a hold
	}{
		{"fresh", stream.Delivery{Time: now}, busy, false, false, false},
		{"no store time (a client event)", stream.Delivery{}, busy, false, false, false},
		{"messages waiting", stream.Delivery{Time: now, Waiting: 3}, busy, false, true, true},
		{"old", stream.Delivery{Time: now.Add(-2 * fanoutBehindAge)}, busy, false, true, true},
		{"fresh within a hold", stream.Delivery{Time: now}, busy, true, true, false},
		{"old, on a quiet channel", stream.Delivery{Time: now.Add(-2 * fanoutBehindAge)}, quiet, false, false, false},
		{"messages waiting, on a quiet channel", stream.Delivery{Time: now, Waiting: 3}, quiet, false, false, false},
		{"the channel's first message, old", stream.Delivery{Time: now.Add(-2 * fanoutBehindAge)}, 0, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs := &channelState{}
			if tc.prev != 0 {
				cs.lastFanout.Store(time.Now().Add(-tc.prev).UnixNano())
			}
			if tc.held {
				cs.queueUntil.Store(time.Now().Add(fanoutBehindHold).UnixNano())
			}
			before := cs.queueUntil.Load()
			if got := cs.fanoutBehind(&tc.d); got != tc.want {
				t.Fatalf("fanoutBehind = %v, want %v", got, tc.want)
			}
			if started := cs.queueUntil.Load() != before; started != tc.holds {
				t.Fatalf("hold started: %v, want %v", started, tc.holds)
			}
		})
	}
	cs := &channelState{}
	cs.queueUntil.Store(time.Now().Add(-time.Millisecond).UnixNano())
	if cs.fanoutBehind(&stream.Delivery{Time: time.Now()}) {
		t.Fatal("still behind after the hold ended")
	}
}

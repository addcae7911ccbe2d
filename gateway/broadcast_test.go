package gateway

import (
	"fmt"
	"testing"
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

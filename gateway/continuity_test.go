package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/heraldhq/herald/bus/stream"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
	"github.com/heraldhq/herald/gateway/sse"
	"github.com/heraldhq/herald/internal/testinfra"
)

// continuityWait bounds how long a test waits for a catch-up; nothing
// waits this long when the code works.
const continuityWait = 10 * time.Second

// continuityEnv is a gateway with a real stream Reader on an embedded
// NATS server, and a publisher into the same stream.
type continuityEnv struct {
	g   *Gateway
	pub *stream.Publisher
}

func newContinuityEnv(t *testing.T) continuityEnv {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), continuityWait)
	defer cancel()
	nc := testinfra.NATSConn(t, testinfra.NATS(t))
	js := testinfra.JetStream(t, nc)
	if err := stream.Ensure(ctx, js, stream.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	pub, err := stream.NewPublisher(stream.PublisherConfig{JS: js})
	if err != nil {
		t.Fatal(err)
	}
	// Few, fast retries: the unfillable-gap case waits for them.
	reader, err := stream.NewReader(stream.ReaderConfig{NC: nc, StaleRetries: 1, StaleBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g := benchGateway(t)
	g.cfg.Reader = reader
	g.cfg.ReplayTailCheck = 10 * time.Millisecond
	return continuityEnv{g: g, pub: pub}
}

// publish stores n messages on channel and returns their serials.
func (e continuityEnv) publish(t *testing.T, channel string, n int) []uint64 {
	t.Helper()
	out := make([]uint64, n)
	for i := range out {
		s, _, err := e.pub.Publish(t.Context(), stream.Message{
			AppID: benchApp, Channel: channel, Event: "tick", Data: fmt.Appendf(nil, "%d", i), Source: stream.SourceAPI,
		})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

// subscribed returns a connection whose replay of channel ended at floor
// and that now waits for live frames. Its writer is marked running, so
// frames stay in its queue for the test to read.
func (e continuityEnv) subscribed(t *testing.T, channel string, floor uint64) (*conn, *subscription) {
	t.Helper()
	ch, err := channels.ParseChannel(channel)
	if err != nil {
		t.Fatal(err)
	}
	sub := &subscription{ch: ch, floor: floor, verify: true}
	c := &conn{gw: e.g, sink: wsSink{}, socketID: e.g.newSocketID(), appID: benchApp, writing: true, subs: subSet{list: []*subscription{sub}}}
	return c, sub
}

// live hands c a live copy of a message with the given serial and
// predecessor, as the fan-out does.
func live(c *conn, sub *subscription, serial, prev uint64) {
	frame := encodeFrame(&protocol.Message{Event: "tick", Channel: sub.ch.Name, Data: "live", Serial: serial})
	c.enqueueFor(sub, heldFrame{serial: serial, prev: prev, frame: frame, event: "tick"})
}

// queuedSerials waits until c's queue holds want frames and returns
// their serials in queue order.
func queuedSerials(t *testing.T, c *conn, want int) []uint64 {
	t.Helper()
	var out []uint64
	testinfra.WaitUntilWithin(t, fmt.Sprintf("%d queued frames", want), continuityWait, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.queue) < want {
			return false
		}
		out = out[:0]
		for _, f := range c.queue {
			var m struct{ Serial uint64 }
			if err := json.Unmarshal(framePayload(f), &m); err != nil {
				t.Fatalf("queued frame %q: %v", framePayload(f), err)
			}
			out = append(out, m.Serial)
		}
		return true
	})
	return out
}

func TestReplaySeam(t *testing.T) {
	e := newContinuityEnv(t)
	cases := []struct {
		name string
		// run publishes, plays the live side and returns the serials the
		// client must get, in order.
		run func(t *testing.T, channel string) (*conn, *subscription, []uint64)
		// gaps is how many catch-ups the case makes.
		gaps float64
	}{
		{"live follows the replay", func(t *testing.T, channel string) (*conn, *subscription, []uint64) {
			s := e.publish(t, channel, 2)
			c, sub := e.subscribed(t, channel, s[0])
			live(c, sub, s[1], s[0])
			return c, sub, s[1:]
		}, 0},
		{"a message neither read nor delivered live", func(t *testing.T, channel string) (*conn, *subscription, []uint64) {
			s := e.publish(t, channel, 4)
			c, sub := e.subscribed(t, channel, s[0])
			live(c, sub, s[2], s[1]) // s[1] was lost at the seam
			live(c, sub, s[3], s[2]) // held during the catch-up
			return c, sub, s[1:]
		}, 1},
		{"a live copy of a replayed message", func(t *testing.T, channel string) (*conn, *subscription, []uint64) {
			s := e.publish(t, channel, 3)
			c, sub := e.subscribed(t, channel, s[1])
			live(c, sub, s[1], s[0]) // the replay sent it already
			live(c, sub, s[2], s[1])
			return c, sub, s[2:]
		}, 0},
		{"a quiet channel's last message", func(t *testing.T, channel string) (*conn, *subscription, []uint64) {
			s := e.publish(t, channel, 3)
			c, sub := e.subscribed(t, channel, s[0])
			e.g.scheduleTailCheck(c, sub)
			return c, sub, s[1:]
		}, 1},
		{"a gap that is gone", func(t *testing.T, channel string) (*conn, *subscription, []uint64) {
			s := e.publish(t, channel, 2)
			c, sub := e.subscribed(t, channel, s[0])
			// The predecessor named is no message of the channel: the
			// catch-up sends what exists and releases the frame.
			ghost := s[1] + 100
			live(c, sub, ghost+1, ghost)
			return c, sub, []uint64{s[1], ghost + 1}
		}, 1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := testutil.ToFloat64(e.g.metrics.replayGaps)
			c, sub, want := tc.run(t, fmt.Sprint("seam-", i))
			got := queuedSerials(t, c, len(want))
			if !slices.Equal(got, want) {
				t.Fatalf("client got serials %v, want %v", got, want)
			}
			// The next live frame follows what the client has and goes
			// straight out.
			next := want[len(want)-1] + 1000
			live(c, sub, next, want[len(want)-1])
			if got := queuedSerials(t, c, len(want)+1); got[len(got)-1] != next {
				t.Fatalf("after the seam: %v", got)
			}
			c.mu.Lock()
			verify, replaying, held := sub.verify, sub.replaying, len(sub.held)
			c.mu.Unlock()
			if verify || replaying || held != 0 {
				t.Fatalf("verify=%v replaying=%v held=%d after the seam", verify, replaying, held)
			}
			if d := testutil.ToFloat64(e.g.metrics.replayGaps) - before; d != tc.gaps {
				t.Fatalf("replay gaps counted %v, want %v", d, tc.gaps)
			}
		})
	}
}

// TestReplaySeamAfterUnsubscribe: a catch-up for a channel the client left
// sends nothing.
func TestReplaySeamAfterUnsubscribe(t *testing.T) {
	e := newContinuityEnv(t)
	s := e.publish(t, "gone", 3)
	c, sub := e.subscribed(t, "gone", s[0])
	c.mu.Lock()
	c.subs.remove("gone")
	sub.replaying = true
	c.mu.Unlock()
	e.g.catchUp(c, sub, s[0], s[2])
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) != 0 || sub.replaying {
		t.Fatalf("queued %d frames, replaying=%v", len(c.queue), sub.replaying)
	}
}

// TestReplaySeamSSE: on an SSE stream the fetched gap and the held live
// frame reach the stream's queue in serial order.
func TestReplaySeamSSE(t *testing.T) {
	e := newContinuityEnv(t)
	s := e.publish(t, "seam-sse", 3)
	c, sub := e.subscribed(t, "seam-sse", s[0])
	st := sse.NewStream(8)
	c.sink = sseSink{stream: st}
	live(c, sub, s[2], s[1]) // s[1] was lost at the seam
	var got []uint64
	for range 2 {
		select {
		case f := <-st.Events():
			got = append(got, f.Serial)
		case <-time.After(continuityWait):
			t.Fatalf("stream got %v, want %v", got, s[1:])
		}
	}
	if !slices.Equal(got, s[1:]) {
		t.Fatalf("stream got %v, want %v", got, s[1:])
	}
}

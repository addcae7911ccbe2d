package gateway

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"testing"

	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// cacheOf is a CacheReader holding at most one entry per channel.
type cacheOf map[string]cachechan.Entry

func (c cacheOf) Get(_ context.Context, _, channel string) (cachechan.Entry, bool, error) {
	e, ok := c[channel]
	return e, ok, nil
}

// TestReplayCacheHoldsLiveFrames: live frames that arrive while a new
// subscriber's cached event is read go out after it, and a live copy of
// the cached message itself is not sent twice.
func TestReplayCacheHoldsLiveFrames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cache cacheOf
		want  []string // event names queued, in order
	}{
		{"hit", cacheOf{"cache-x": {Event: "price", Data: "5", Serial: 5}}, []string{"price#5", "price#6"}},
		{"miss", cacheOf{}, []string{"pusher:cache_miss#0", "price#5", "price#6"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := benchGateway(t)
			g.cfg.Cache = tc.cache
			ch, err := channels.ParseChannel("cache-x")
			if err != nil {
				t.Fatal(err)
			}
			sub := &subscription{ch: ch, replaying: true}
			c := &conn{gw: g, sink: wsSink{}, socketID: g.newSocketID(), appID: benchApp, writing: true, subs: subSet{list: []*subscription{sub}}}
			// Published while the cache is read: the cached message's live
			// copy, then a newer one.
			for _, s := range []uint64{5, 6} {
				c.enqueueFor(sub, heldFrame{serial: s, prev: s - 1, frame: encodeFrame(&protocol.Message{Event: "price", Channel: ch.Name, Data: "live", Serial: s}), event: "price"})
			}
			g.replayCache(c, sub, false)
			var got []string
			c.mu.Lock()
			for _, f := range c.queue {
				var m struct {
					Event  string
					Serial uint64
				}
				if err := json.Unmarshal(framePayload(f), &m); err != nil {
					t.Fatal(err)
				}
				got = append(got, m.Event+"#"+strconv.FormatUint(m.Serial, 10))
			}
			replaying := sub.replaying
			c.mu.Unlock()
			if !slices.Equal(got, tc.want) || replaying {
				t.Fatalf("queued %v (replaying=%v), want %v", got, replaying, tc.want)
			}
		})
	}
}

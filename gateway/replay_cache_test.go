package gateway

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/heraldhq/herald/bus/cachechan"
	"github.com/heraldhq/herald/channels"
)

// TestReplayOnACacheChannel: a subscribe carrying a resume or a rewind on
// a cache channel gets every serial once and in order, the cached event
// taking no extra place; the cached event (or pusher:cache_miss) comes
// only when the replay has nothing and the client lacks it. A live frame
// held during the replay follows, also when the client's position is
// beyond the channel's newest message.
func TestReplayOnACacheChannel(t *testing.T) {
	e := newContinuityEnv(t)
	cache := cacheOf{}
	e.g.cfg.Cache = cache
	// other's serial is a position no message of the cache channels has.
	other := e.publish(t, "other", 1)[0]
	for i, tc := range []struct {
		name  string
		empty bool // nothing published or cached
		// plan is the subscribe's replay, given the channel's serials.
		plan func(s []uint64) replayPlan
		// want is what the client gets, the held live frame last; tick#N
		// names the channel's Nth message, result:… the resume result.
		want []string
	}{
		{"plain subscribe", false, func([]uint64) replayPlan { return replayPlan{} }, []string{"tick#1", "live"}},
		{"resume from the newest", false, func(s []uint64) replayPlan { return replayPlan{resume: true, from: s[1]} },
			[]string{"result:true", "live"}},
		{"resume from the older", false, func(s []uint64) replayPlan { return replayPlan{resume: true, from: s[0]} },
			[]string{"tick#1", "result:true", "live"}},
		{"rewind 1", false, func([]uint64) replayPlan { return replayPlan{rewind: 1} }, []string{"tick#1", "live"}},
		{"rewind 2", false, func([]uint64) replayPlan { return replayPlan{rewind: 2} }, []string{"tick#0", "tick#1", "live"}},
		{"rewind_ms", false, func([]uint64) replayPlan { return replayPlan{rewindMs: 60_000} }, []string{"tick#0", "tick#1", "live"}},
		// Not recovered from a position below the cached event: it follows
		// the result, so a client filling its gap from history starts at
		// its own position.
		{"resume from a position not stored", false, func([]uint64) replayPlan { return replayPlan{resume: true, from: other} },
			[]string{"result:false", "tick#1", "live"}},
		// Beyond the newest (the live frame is below it): no position,
		// which the client is told to forget.
		{"resume from beyond the newest", false, func(s []uint64) replayPlan { return replayPlan{resume: true, from: s[1] + 5000} },
			[]string{"result:reset", "tick#1", "live"}},
		{"rewind on an empty channel", true, func([]uint64) replayPlan { return replayPlan{rewind: 5} },
			[]string{"pusher:cache_miss", "live"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprint("cache-replay-", i)
			var s []uint64
			if !tc.empty {
				s = e.publish(t, name, 2)
				cache[name] = cachechan.Entry{Event: "tick", Data: "1", Serial: s[1]}
			}
			ch, err := channels.ParseChannel(name)
			if err != nil {
				t.Fatal(err)
			}
			plan := tc.plan(s)
			sub := &subscription{ch: ch, replaying: true}
			c := &conn{gw: e.g, sink: wsSink{}, socketID: e.g.newSocketID(), appID: benchApp, writing: true, subs: subSet{list: []*subscription{sub}}}
			// Published while the subscribe reads: held, then released.
			newest := other
			if len(s) > 0 {
				newest = s[1]
			}
			next := newest + 1000
			live(c, sub, next, newest)
			e.g.replayCache(c, sub, plan.any())
			if plan.any() {
				e.g.replay(c, replayApp(), sub, plan)
			}
			names := map[uint64]string{next: "live"}
			for j, serial := range s {
				names[serial] = fmt.Sprint("tick#", j)
			}
			if got := queuedEvents(t, c, names); !slices.Equal(got, tc.want) {
				t.Fatalf("client got %v, want %v", got, tc.want)
			}
		})
	}
}

// queuedEvents describes the frames in c's queue: a channel message by
// names[serial], a resume result as result:true, result:false or
// result:reset, other events by their name.
func queuedEvents(t *testing.T, c *conn, names map[uint64]string) []string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, f := range c.queue {
		var m struct {
			Event, Data string
			Serial      uint64
		}
		if err := json.Unmarshal(framePayload(f), &m); err != nil {
			t.Fatalf("queued frame %q: %v", framePayload(f), err)
		}
		switch {
		case m.Serial != 0:
			out = append(out, names[m.Serial])
		case m.Event == "herald_internal:resume_result":
			out = append(out, "result:"+resultName(t, m.Data))
		default:
			out = append(out, m.Event)
		}
	}
	return out
}

// resultName names a resume result's data: true, false or reset.
func resultName(t *testing.T, data string) string {
	t.Helper()
	var r struct{ Recovered, Reset bool }
	if err := json.Unmarshal([]byte(data), &r); err != nil {
		t.Fatalf("resume result %q: %v", data, err)
	}
	switch {
	case r.Reset:
		return "reset"
	case r.Recovered:
		return "true"
	}
	return "false"
}

package e2e_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

// TestReplayOnACacheChannel: on a cache channel a subscribe with
// resume_from, rewind or rewind_ms gets every serial once and in order
// (the cached event used to come first, then the replay repeated it);
// the cached event comes only when the replay has nothing and the client
// lacks it, and live messages follow, also after a position beyond the
// channel's newest message (which used to hide them).
func TestReplayOnACacheChannel(t *testing.T) {
	h := testenv.Herald(t)
	// other's serial is a position no message of the cache channels has.
	other := testenv.Trigger(t, h.URL(), appID, key, secret, "m", "o", "replay-other")["replay-other"]
	for i, tc := range []struct {
		name  string
		empty bool // nothing published on the channel
		// extra is the subscribe's extension fields, given the channel's
		// two serials.
		extra func(s []uint64) map[string]any
		// want is what the client gets up to the live message: eN is the
		// channel's Nth message, result:… the resume result.
		want []string
	}{
		{"plain subscribe", false, func([]uint64) map[string]any { return nil }, []string{"e1", "live"}},
		{"resume from the newest", false, func(s []uint64) map[string]any { return map[string]any{"resume_from": s[1]} },
			[]string{"result:true", "live"}},
		{"resume from the older", false, func(s []uint64) map[string]any { return map[string]any{"resume_from": s[0]} },
			[]string{"e1", "result:true", "live"}},
		{"rewind 1", false, func([]uint64) map[string]any { return map[string]any{"rewind": 1} }, []string{"e1", "live"}},
		{"rewind 2", false, func([]uint64) map[string]any { return map[string]any{"rewind": 2} }, []string{"e0", "e1", "live"}},
		{"rewind_ms", false, func([]uint64) map[string]any { return map[string]any{"rewind_ms": 60_000} }, []string{"e0", "e1", "live"}},
		{"resume from a position not stored", false, func([]uint64) map[string]any { return map[string]any{"resume_from": other} },
			[]string{"result:false", "e1", "live"}},
		{"resume from beyond the newest", false, func(s []uint64) map[string]any { return map[string]any{"resume_from": s[1] + 1000} },
			[]string{"result:reset", "e1", "live"}},
		{"rewind on an empty channel", true, func([]uint64) map[string]any { return map[string]any{"rewind": 5} },
			[]string{"pusher:cache_miss", "live"}},
		{"resume from beyond on an empty channel", true, func([]uint64) map[string]any { return map[string]any{"resume_from": other + 1000} },
			[]string{"result:reset", "pusher:cache_miss", "live"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			channel := fmt.Sprint("cache-replay-", i)
			var s []uint64
			if !tc.empty {
				for j := range 2 {
					s = append(s, testenv.Trigger(t, h.URL(), appID, key, secret, "m", fmt.Sprint("e", j), channel)[channel])
				}
			}
			p := testenv.MustDialPusher(t, h.URL(), key)
			if e := subscribeWith(t, p, channel, tc.extra(s)); e.Event != "pusher_internal:subscription_succeeded" {
				t.Fatalf("subscribe = %+v", e)
			}
			// Live once the replay is read, so that it cannot be part of it.
			got := readEvents(t, p, channel, len(tc.want)-1, 0)
			live := testenv.Trigger(t, h.URL(), appID, key, secret, "m", "live", channel)[channel]
			if got = append(got, readEvents(t, p, channel, 0, live)...); !slices.Equal(got, tc.want) {
				t.Fatalf("client got %v, want %v", got, tc.want)
			}
		})
	}
}

// readEvents describes the next n events of channel (n 0: up to the
// message with serial upTo): a message by its data, the resume result by
// result:true, result:false or result:reset, other events by their name.
func readEvents(t *testing.T, p *testenv.PusherClient, channel string, n int, upTo uint64) []string {
	t.Helper()
	var out []string
	for upTo != 0 || len(out) < n {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("%s: %v after %v", channel, err, out)
		}
		switch {
		case e.Channel != channel:
		case e.Event == "herald_internal:resume_result":
			out = append(out, map[string]string{
				`{"recovered":true}`: "result:true", `{"recovered":false}`: "result:false", `{"recovered":false,"reset":true}`: "result:reset",
			}[e.Data])
		case e.Serial != 0:
			out = append(out, e.Data)
			if e.Serial == upTo {
				return out
			}
		default:
			out = append(out, e.Event)
		}
	}
	return out
}

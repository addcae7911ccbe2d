package webhookstate_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/webhookstate"
)

// step is one input of a script: a gateway's share written (put) or
// removed (del), or the clock advanced, at ms milliseconds.
type step struct {
	ms    int
	op    string // "put", "del", "advance"
	gw    string
	ch    string
	subs  int64
	users []string
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func put(ms int, gw, ch string, subs int64, users ...string) step {
	return step{ms: ms, op: "put", gw: gw, ch: ch, subs: subs, users: users}
}
func del(ms int, gw, ch string) step { return step{ms: ms, op: "del", gw: gw, ch: ch} }
func advance(ms int) step            { return step{ms: ms, op: "advance"} }

// describe renders an event as "<ms> <kind> <channel> [user|count]".
func describe(ev webhookstate.Event) string {
	e := ev.Env.Event
	s := fmt.Sprintf("%d %s %s", time.UnixMilli(ev.Env.TimeMS).Sub(epoch).Milliseconds(), e.Name, e.Channel)
	if e.UserID != "" {
		s += " " + e.UserID
	}
	if e.SubscriptionCount != nil {
		s += fmt.Sprintf(" %d", *e.SubscriptionCount)
	}
	return s
}

// run plays a script and returns the events in order, with the time each
// was made at ("@<ms>") when it differs from the time it describes.
func run(tr *webhookstate.Transitions, steps []step, seq *uint64) ([]string, []webhookstate.Event) {
	var out []string
	var all []webhookstate.Event
	for _, s := range steps {
		at := epoch.Add(time.Duration(s.ms) * time.Millisecond)
		var evs []webhookstate.Event
		switch s.op {
		case "advance":
			evs = tr.Advance(at)
		default:
			*seq++
			u := webhookstate.Update{
				Key: webhookstate.Key{ChannelRef: webhookstate.ChannelRef{AppID: "app", Channel: s.ch}, GatewayID: s.gw},
				Seq: *seq, At: at, Deleted: s.op == "del",
				Value: webhookstate.Value{Subscriptions: s.subs, Users: s.users},
			}
			evs = tr.Apply(u)
		}
		for _, ev := range evs {
			d := describe(ev)
			if made := s.ms; !strings.HasPrefix(d, fmt.Sprint(made)+" ") {
				d += fmt.Sprintf(" @%d", made)
			}
			out = append(out, d)
		}
		all = append(all, evs...)
	}
	return out, all
}

func TestTransitions(t *testing.T) {
	const c, p = "chat", "presence-room"
	cases := []struct {
		name  string
		steps []step
		want  []string
	}{
		{"occupied then vacated after the delay", []step{
			put(0, "g1", c, 1), del(1000, "g1", c), advance(3999), advance(4000),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1", "1000 channel_vacated chat @4000"}},
		{"one of two gateways leaves: no vacated", []step{
			put(0, "g1", c, 1), put(10, "g2", c, 1), del(1000, "g1", c), advance(60000),
			del(70000, "g2", c), advance(73000),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1",
			"70000 channel_vacated chat @73000"}},
		{"a return through another gateway within the delay cancels the pair", []step{
			put(0, "g1", c, 1), del(1000, "g1", c), put(2500, "g2", c, 1), advance(60000),
			del(70000, "g2", c), advance(72999), advance(73000),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1",
			"70000 channel_vacated chat @73000"}},
		{"a return after the delay is a new occupation", []step{
			put(0, "g1", c, 1), del(1000, "g1", c), put(4001, "g2", c, 1),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1",
			"1000 channel_vacated chat @4001", "4001 channel_occupied chat", "4001 subscription_count chat 1"}},
		{"a return exactly at the delay's end comes too late", []step{
			put(0, "g1", c, 1), del(1000, "g1", c), put(4000, "g1", c, 1),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1",
			"1000 channel_vacated chat @4000", "4000 channel_occupied chat", "4000 subscription_count chat 1"}},
		{"members are cluster-wide", []step{
			put(0, "g1", p, 1, "ann"), put(10, "g2", p, 1, "ann"), put(20, "g2", p, 1, "ann", "ben"),
			del(1000, "g1", p), advance(9000),
			put(10000, "g2", p, 1, "ben"), put(11000, "g1", p, 1, "ann"), advance(20000),
			put(30000, "g1", p, 1), advance(40000),
		}, []string{"0 channel_occupied presence-room", "0 member_added presence-room ann",
			"20 member_added presence-room ben", "30000 member_removed presence-room ann @40000"}},
		{"the last leave: member_removed before channel_vacated", []step{
			put(0, "g1", p, 1, "ann", "ben"), del(1000, "g1", p), advance(4000),
		}, []string{"0 channel_occupied presence-room", "0 member_added presence-room ann",
			"0 member_added presence-room ben", "1000 member_removed presence-room ann @4000",
			"1000 member_removed presence-room ben @4000", "1000 channel_vacated presence-room @4000"}},
		{"a user moving between gateways stays a member", []step{
			put(0, "g1", p, 1, "ann"), del(500, "g1", p), put(600, "g2", p, 1, "ann"), advance(10000),
		}, []string{"0 channel_occupied presence-room", "0 member_added presence-room ann"}},
		{"subscription_count at most every interval, only on change", []step{
			put(0, "g1", c, 1), put(1000, "g1", c, 2), put(2000, "g2", c, 1), advance(4999), advance(5000),
			put(6000, "g1", c, 1), put(7000, "g1", c, 2), advance(10000),
			put(11000, "g2", c, 2), advance(15000),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1",
			"5000 subscription_count chat 3", "11000 subscription_count chat 4"}},
		{"a count change after a quiet interval is sent at once", []step{
			put(0, "g1", c, 1), put(9000, "g1", c, 4),
		}, []string{"0 channel_occupied chat", "0 subscription_count chat 1", "9000 subscription_count chat 4"}},
		{"no subscription_count on presence channels", []step{
			put(0, "g1", p, 3, "ann"), put(6000, "g1", p, 5, "ann"), advance(20000),
		}, []string{"0 channel_occupied presence-room", "0 member_added presence-room ann"}},
		{"channels are independent", []step{
			put(0, "g1", "a", 1), put(0, "g1", "b", 1), del(100, "g1", "a"), advance(3100),
		}, []string{"0 channel_occupied a", "0 subscription_count a 1", "0 channel_occupied b",
			"0 subscription_count b 1", "100 channel_vacated a @3100"}},
		{"a delete of an unknown share changes nothing", []step{
			del(0, "g1", c), advance(10000),
		}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr := webhookstate.NewTransitions(webhookstate.TransitionsConfig{LeaveDelay: 3 * time.Second, CountInterval: 5 * time.Second})
			var seq uint64
			got, _ := run(tr, tc.steps, &seq)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("events:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}
}

func TestTransitionsIgnoreOlderWrites(t *testing.T) {
	tr := webhookstate.NewTransitions(webhookstate.TransitionsConfig{})
	k := webhookstate.Key{ChannelRef: webhookstate.ChannelRef{AppID: "app", Channel: "presence-x"}, GatewayID: "g1"}
	tr.Apply(webhookstate.Update{Key: k, Seq: 5, At: epoch, Value: webhookstate.Value{Subscriptions: 1, Users: []string{"ann"}}})
	if evs := tr.Apply(webhookstate.Update{Key: k, Seq: 4, At: epoch, Value: webhookstate.Value{Subscriptions: 1, Users: []string{"ben"}}}); len(evs) != 0 {
		t.Fatalf("an older write made %v", evs)
	}
}

func TestTransitionsBaseline(t *testing.T) {
	tr := webhookstate.NewTransitions(webhookstate.TransitionsConfig{LeaveDelay: time.Second})
	k := webhookstate.Key{ChannelRef: webhookstate.ChannelRef{AppID: "app", Channel: "presence-x"}, GatewayID: "g1"}
	tr.Baseline([]webhookstate.Update{{Key: k, Seq: 1, At: epoch, Value: webhookstate.Value{Subscriptions: 1, Users: []string{"ann"}}}})
	if tr.Channels() != 1 {
		t.Fatalf("channels = %d", tr.Channels())
	}
	evs := tr.Apply(webhookstate.Update{Key: k, Seq: 2, At: epoch.Add(time.Second), Deleted: true})
	evs = append(evs, tr.Advance(epoch.Add(2*time.Second))...)
	var got []string
	for _, ev := range evs {
		got = append(got, describe(ev))
	}
	if want := []string{"1000 member_removed presence-x ann", "1000 channel_vacated presence-x"}; !slices.Equal(got, want) {
		t.Fatalf("after a baseline: %v, want %v", got, want)
	}
	if tr.Channels() != 0 {
		t.Fatalf("a vacated channel is still tracked")
	}
}

// Two processes folding the same updates make the same events with the
// same ids, so the stream stores each once; distinct transitions get
// distinct ids.
func TestTransitionIDsAreDeterministic(t *testing.T) {
	steps := []step{
		put(0, "g1", "presence-r", 1, "ann"), del(1000, "g1", "presence-r"), advance(5000),
		put(6000, "g2", "presence-r", 1, "ann"), del(7000, "g2", "presence-r"), advance(11000),
	}
	var ids [2][]string
	for i := range ids {
		var seq uint64
		_, evs := run(webhookstate.NewTransitions(webhookstate.TransitionsConfig{}), steps, &seq)
		for _, ev := range evs {
			ids[i] = append(ids[i], ev.MsgID)
		}
	}
	if !slices.Equal(ids[0], ids[1]) || len(ids[0]) != 8 {
		t.Fatalf("ids differ or wrong count: %v / %v", ids[0], ids[1])
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids[0])))) != len(ids[0]) {
		t.Fatalf("distinct transitions share an id: %v", ids[0])
	}
}

func TestKeyRoundTrip(t *testing.T) {
	k := webhookstate.Key{ChannelRef: webhookstate.ChannelRef{AppID: "app-1", Channel: "presence-a.b@c"}, GatewayID: "gw-1"}
	got, err := webhookstate.ParseKey(k.String())
	if err != nil || got != k {
		t.Fatalf("ParseKey(%q) = %+v, %v", k.String(), got, err)
	}
	for _, bad := range []string{"", "app", "app.x", "app.!!.gw", "a.b.c.d", "app..gw"} {
		if _, err := webhookstate.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

// Resume reports what changed between the view a previous decider
// reported and the state now, and nothing else.
func TestTransitionsResume(t *testing.T) {
	tr := webhookstate.NewTransitions(webhookstate.TransitionsConfig{})
	share := func(ch string, users ...string) webhookstate.Update {
		return webhookstate.Update{
			Key: webhookstate.Key{ChannelRef: webhookstate.ChannelRef{AppID: "app", Channel: ch}, GatewayID: "g1"},
			Seq: 1, At: epoch, Value: webhookstate.Value{Subscriptions: 1, Users: users},
		}
	}
	ref := func(ch string) webhookstate.ChannelRef { return webhookstate.ChannelRef{AppID: "app", Channel: ch} }
	evs := tr.Resume(
		[]webhookstate.Update{share("same"), share("new"), share("presence-p", "ben", "cid")},
		map[webhookstate.ChannelRef][]string{ref("same"): nil, ref("gone"): nil, ref("presence-p"): {"ann", "ben"}},
		epoch.Add(time.Second), 7)
	var got []string
	for _, ev := range evs {
		got = append(got, describe(ev))
	}
	want := []string{"1000 channel_vacated gone", "1000 channel_occupied new",
		"1000 member_added presence-p cid", "1000 member_removed presence-p ann"}
	if !slices.Equal(got, want) {
		t.Fatalf("Resume = %v, want %v", got, want)
	}
}

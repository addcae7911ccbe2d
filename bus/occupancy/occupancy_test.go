package occupancy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/occupancy"
)

// answerTimeout is the client's wait in tests where every gateway
// answers: long, because reaching it is a failure, not the normal path.
const answerTimeout = 5 * time.Second

func TestQueryMergesEveryGateway(t *testing.T) {
	e := newEnv(t)
	e.register(t, "gw-a", "gw-b")
	e.serve(t, "gw-a", &source{chans: map[string][]occupancy.ChannelCount{
		"app": {
			{Name: "presence-room", Subscriptions: 2, UserIDs: []string{"ann", "bob"}},
			{Name: "news", Subscriptions: 1},
		},
		"other": {{Name: "news", Subscriptions: 7}},
	}})
	e.serve(t, "gw-b", &source{chans: map[string][]occupancy.ChannelCount{
		"app": {
			{Name: "presence-room", Subscriptions: 3, UserIDs: []string{"bob", "cat"}},
			{Name: "private-x", Subscriptions: 4},
		},
	}})
	c := e.client(t, answerTimeout)

	type want struct {
		subs  int
		users []string
	}
	cases := []struct {
		name string
		q    occupancy.Query
		want map[string]want
	}{
		{"all channels", occupancy.Query{AppID: "app"}, map[string]want{
			"presence-room": {5, []string{}}, "news": {1, []string{}}, "private-x": {4, []string{}},
		}},
		{"with users", occupancy.Query{AppID: "app", Prefix: "presence-", Users: true}, map[string]want{
			"presence-room": {5, []string{"ann", "bob", "cat"}},
		}},
		{"by name", occupancy.Query{AppID: "app", Channels: []string{"news", "private-x", "empty"}}, map[string]want{
			"news": {1, []string{}}, "private-x": {4, []string{}},
		}},
		{"another app", occupancy.Query{AppID: "other"}, map[string]want{"news": {7, []string{}}}},
		{"no channels", occupancy.Query{AppID: "nobody"}, map[string]want{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			res, err := c.Query(t.Context(), tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Missing) > 0 {
				t.Fatalf("missing gateways %v", res.Missing)
			}
			got := map[string]want{}
			for name, ch := range res.Channels {
				got[name] = want{ch.Subscriptions, ch.UserIDs()}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			if res.Channel("empty").Subscriptions != 0 {
				t.Fatal("an unknown channel has subscribers")
			}
			t.Logf("answered in %s", time.Since(start))
		})
	}
}

func TestQueryWithDeadGateway(t *testing.T) {
	e := newEnv(t)
	e.register(t, "gw-live", "gw-dead")
	e.serve(t, "gw-live", &source{chans: map[string][]occupancy.ChannelCount{"app": {{Name: "c", Subscriptions: 1}}}})
	// A gateway nobody registered yet (it just started) is heard too.
	e.serve(t, "gw-new", &source{chans: map[string][]occupancy.ChannelCount{"app": {{Name: "c", Subscriptions: 2}}}})
	const timeout = 300 * time.Millisecond
	c := e.client(t, timeout)
	start := time.Now()
	res, err := c.Query(t.Context(), occupancy.Query{AppID: "app"})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Missing, []string{"gw-dead"}) {
		t.Fatalf("missing = %v", res.Missing)
	}
	if got := res.Channel("c").Subscriptions; got != 3 {
		t.Fatalf("subscriptions = %d, want 3 (both live gateways)", got)
	}
	if took < timeout || took > timeout+2*time.Second {
		t.Fatalf("answered after %s with a %s timeout", took, timeout)
	}
}

func TestQueryWithoutGateways(t *testing.T) {
	e := newEnv(t)
	c := e.client(t, answerTimeout)
	start := time.Now()
	res, err := c.Query(t.Context(), occupancy.Query{AppID: "app"})
	if err != nil || len(res.Channels) != 0 || len(res.Missing) != 0 {
		t.Fatalf("res = %+v, %v", res, err)
	}
	// Registered gateways that never subscribed: no responders, no wait.
	e.register(t, "gw-a")
	res, err = c.Query(t.Context(), occupancy.Query{AppID: "app"})
	if err != nil || !slices.Equal(res.Missing, []string{"gw-a"}) {
		t.Fatalf("res = %+v, %v", res, err)
	}
	if took := time.Since(start); took > answerTimeout/2 {
		t.Fatalf("took %s", took)
	}
	if _, err := c.Query(t.Context(), occupancy.Query{}); err == nil {
		t.Fatal("a query without an app was sent")
	}
}

func TestLargeAnswerInParts(t *testing.T) {
	e := newEnv(t)
	e.register(t, "gw-a", "gw-b")
	const nChans, nUsers = 300, 400
	big := make([]occupancy.ChannelCount, nChans)
	for i := range big {
		big[i] = occupancy.ChannelCount{Name: fmt.Sprintf("presence-%s-%d", strings.Repeat("x", 150), i), Subscriptions: 1}
	}
	users := make([]string, nUsers)
	for i := range users {
		users[i] = fmt.Sprintf("user-%03d-%s", i, strings.Repeat("é", 50))
	}
	big[0] = occupancy.ChannelCount{Name: "presence-crowd", Subscriptions: nUsers, UserIDs: users}
	small := []occupancy.ChannelCount{{Name: "presence-crowd", Subscriptions: 1, UserIDs: []string{"user-000-x", users[1]}}}
	tiny := func(c *occupancy.ResponderConfig) { c.MaxChunkBytes = 4 << 10 }
	e.serve(t, "gw-a", &source{chans: map[string][]occupancy.ChannelCount{"app": big}}, tiny)
	e.serve(t, "gw-b", &source{chans: map[string][]occupancy.ChannelCount{"app": small}}, tiny)

	res, err := e.client(t, answerTimeout).Query(t.Context(), occupancy.Query{AppID: "app", Users: true})
	if err != nil || len(res.Missing) > 0 {
		t.Fatalf("res missing %v, %v", res.Missing, err)
	}
	if len(res.Channels) != nChans {
		t.Fatalf("%d channels, want %d", len(res.Channels), nChans)
	}
	crowd := res.Channel("presence-crowd")
	if crowd.Subscriptions != nUsers+1 || crowd.UserCount() != nUsers+1 {
		t.Fatalf("crowd = %d subscriptions, %d users", crowd.Subscriptions, crowd.UserCount())
	}
}

func TestTerminate(t *testing.T) {
	e := newEnv(t)
	e.register(t, "gw-a", "gw-b")
	a := &source{users: map[string]map[string]int{"app": {"ann": 2, "bob": 1}}}
	b := &source{users: map[string]map[string]int{"app": {"ann": 1}, "other": {"ann": 5}}}
	e.serve(t, "gw-a", a)
	e.serve(t, "gw-b", b)
	c := e.client(t, answerTimeout)
	cases := []struct {
		app, user string
		closed    int
	}{
		{"app", "ann", 3},
		{"app", "ann", 0},
		{"app", "bob", 1},
		{"other", "ann", 5},
	}
	for _, tc := range cases {
		closed, missing, err := c.Terminate(t.Context(), tc.app, tc.user)
		if err != nil || len(missing) > 0 || closed != tc.closed {
			t.Fatalf("terminate %s/%s = %d, %v, %v; want %d", tc.app, tc.user, closed, missing, err, tc.closed)
		}
	}
	if _, _, err := c.Terminate(t.Context(), "app", ""); err == nil {
		t.Fatal("terminate without a user was sent")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if want := []string{"app/ann", "app/ann", "app/bob", "other/ann"}; !slices.Equal(b.terminated, want) {
		t.Fatalf("gw-b acted on %v, want %v", b.terminated, want)
	}
}

// BenchmarkQuery measures one scatter-gather round over two gateways
// holding 100 channels each, registry read included.
func BenchmarkQuery(b *testing.B) {
	e := newEnv(b)
	e.register(b, "gw-a", "gw-b")
	chans := make([]occupancy.ChannelCount, 100)
	for i := range chans {
		chans[i] = occupancy.ChannelCount{Name: fmt.Sprintf("presence-%d", i), Subscriptions: 3, UserIDs: []string{"ann", "bob"}}
	}
	src := &source{chans: map[string][]occupancy.ChannelCount{"app": chans}}
	e.serve(b, "gw-a", src)
	e.serve(b, "gw-b", src)
	c := e.client(b, answerTimeout)
	cases := []struct {
		name string
		q    occupancy.Query
	}{
		{"one channel", occupancy.Query{AppID: "app", Channels: []string{"presence-7"}, Users: true}},
		{"100 channels", occupancy.Query{AppID: "app", Users: true}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := c.Query(b.Context(), tc.q)
				if err != nil || len(res.Missing) > 0 {
					b.Fatalf("missing %v, %v", res.Missing, err)
				}
			}
		})
	}
}

package e2e_test

import (
	"slices"
	"testing"
	"time"

	pusher "github.com/pusher/pusher-http-go/v5"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// The HTTP API's counts are cluster-wide: subscribers on both gateways
// count, a user connected through both counts once, and terminate closes the
// user's connections on both, signed-in and token ones (docs/architecture.md,
// "Cluster-wide state").
func TestCountsAndTerminateAcrossGateways(t *testing.T) {
	cp, g1, g2, _ := clusterHerald(t)
	const app = "occ"
	k, s := newAppOn(t, cp, []testenv.Node{g1, g2}, app)
	sdk := sdkClient(t, cp.URL(), app, k, s)

	const room, news = "presence-lobby", "news"
	a1 := testenv.MustDialPusher(t, g1.URL(), k)
	b1 := testenv.MustDialPusher(t, g2.URL(), k)
	b2 := testenv.MustDialPusher(t, g2.URL(), k)
	for _, p := range []*testenv.PusherClient{a1, b1, b2} {
		mustSucceed(t, p.Subscribe(news, k, "", ""))
	}
	// ann on both gateways, ben on the second.
	mustSucceed(t, a1.Subscribe(room, k, s, `{"user_id":"ann"}`))
	mustSucceed(t, b1.Subscribe(room, k, s, `{"user_id":"ann"}`))
	mustSucceed(t, b2.Subscribe(room, k, s, `{"user_id":"ben"}`))

	start := time.Now()
	ch, err := sdk.Channel(room, pusher.ChannelParams{Info: ptr("user_count,subscription_count")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("channel info from two gateways in %s", time.Since(start))
	if !ch.Occupied || ch.UserCount != 2 || ch.SubscriptionCount != 3 {
		t.Fatalf("presence channel = %+v, want 2 users and 3 subscriptions", ch)
	}
	if ch, err := sdk.Channel(news, pusher.ChannelParams{Info: ptr("subscription_count")}); err != nil || ch.SubscriptionCount != 3 {
		t.Fatalf("public channel = %+v, %v", ch, err)
	}
	list, err := sdk.Channels(pusher.ChannelsParams{})
	if err != nil || len(list.Channels) != 2 {
		t.Fatalf("channels = %+v, %v", list, err)
	}
	presence, err := sdk.Channels(pusher.ChannelsParams{FilterByPrefix: ptr("presence-"), Info: ptr("user_count")})
	if err != nil || presence.Channels[room].UserCount != 2 {
		t.Fatalf("presence channels = %+v, %v", presence, err)
	}
	users, err := sdk.GetChannelUsers(room)
	if err != nil || !slices.Equal(users.List, []pusher.User{{ID: "ann"}, {ID: "ben"}}) {
		t.Fatalf("users = %+v, %v", users, err)
	}
	info, err := sdk.TriggerWithParams(room, "hello", "x", pusher.TriggerParams{Info: ptr("user_count,subscription_count")})
	if err != nil {
		t.Fatal(err)
	}
	checkTriggerInfo(t, info.Channels, map[string][2]int{room: {2, 3}})

	// tom is signed in on both gateways and has a token connection (sub
	// tom, no sign-in) on the first; ted is signed in on one.
	t1 := testenv.MustDialPusher(t, g1.URL(), k)
	t2 := testenv.MustDialPusher(t, g2.URL(), k)
	ted := testenv.MustDialPusher(t, g2.URL(), k)
	signinAs(t, sdk, t1, "tom")
	signinAs(t, sdk, t2, "tom")
	signinAs(t, sdk, ted, "ted")
	t3, err := testenv.DialPusher(t, g1.URL(), k, "protocol=7&token="+tenantToken(t, k, s, app, "tom", time.Hour, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	status, body := testenv.SignedRequest(t, "POST", cp.URL(), "/apps/"+app+"/users/tom/terminate_connections", k, s, nil, []byte(`{}`))
	if status != 200 {
		t.Fatalf("terminate = %d %s", status, body)
	}
	for _, p := range []*testenv.PusherClient{t1, t2, t3} {
		if code := p.ExpectClose(); code != 4009 {
			t.Fatalf("terminated connection closed with %d", code)
		}
	}
	alive(t, ted)

	// A gateway that leaves takes its subscribers out of the counts.
	killed := time.Now()
	g2.Kill()
	t.Logf("gateway killed in %s", time.Since(killed))
	testinfra.WaitUntilWithin(t, "counts without the dead gateway", memberGoneDeadline, func() bool {
		ch, err := sdk.Channel(news, pusher.ChannelParams{Info: ptr("subscription_count")})
		if err != nil {
			t.Fatal(err)
		}
		return ch.SubscriptionCount == 1
	})
	t.Logf("counts without the dead gateway %s after the kill", time.Since(killed))
}

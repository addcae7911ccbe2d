package herald_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/heraldhq/herald/sdk/go/herald"
	"github.com/heraldhq/herald/sdk/go/internal/heraldtest"
)

func TestChannelQueries(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	const room = "presence-room"
	for _, user := range []string{"ann", "bo"} {
		p := a.dial(t, "")
		body, err := a.client.AuthorizeChannel(p.SocketID, room, &herald.PresenceMember{UserID: user, UserInfo: map[string]string{"name": user}})
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Subscribe(room, body, wait); err != nil {
			t.Fatal(err)
		}
	}
	pub := a.dial(t, "")
	if err := pub.Subscribe("news", nil, wait); err != nil {
		t.Fatal(err)
	}

	all, err := a.client.Channels(ctx(t), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all[room]; !ok || len(all) != 2 {
		t.Fatalf("Channels = %+v", all)
	}
	presence, err := a.client.Channels(ctx(t), "presence-", herald.InfoUserCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(presence) != 1 || presence[room].UserCount != 2 {
		t.Fatalf("presence channels = %+v", presence)
	}
	ch, err := a.client.Channel(ctx(t), room, herald.InfoUserCount, herald.InfoSubscriptionCount)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Name != room || !ch.Occupied || ch.UserCount != 2 || ch.SubscriptionCount != 2 {
		t.Fatalf("Channel = %+v", ch)
	}
	users, err := a.client.ChannelUsers(ctx(t), room)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(users)
	if !slices.Equal(users, []string{"ann", "bo"}) {
		t.Fatalf("ChannelUsers = %v", users)
	}
	empty, err := a.client.Channel(ctx(t), "nobody-here")
	if err != nil || empty.Occupied {
		t.Fatalf("empty channel = %+v, %v", empty, err)
	}

	// A name with characters a URL path escapes.
	odd := "odd,name;with=chars@x"
	if err := pub.Subscribe(odd, nil, wait); err != nil {
		t.Fatal(err)
	}
	if ch, err := a.client.Channel(ctx(t), odd, herald.InfoSubscriptionCount); err != nil || ch.SubscriptionCount != 1 {
		t.Fatalf("Channel(%q) = %+v, %v", odd, ch, err)
	}

	// A cache channel keeps its last event for late subscribers.
	if _, err := a.client.Trigger(ctx(t), []string{"cache-prices"}, "price", `{"eur":1}`); err != nil {
		t.Fatal(err)
	}
	cached, err := a.client.Channel(ctx(t), "cache-prices", herald.InfoCache)
	if err != nil || cached.Cache == nil || cached.Cache.Event != "price" || cached.Cache.Data != `{"eur":1}` || cached.Cache.TTL <= 0 {
		t.Fatalf("cache channel = %+v, %v", cached, err)
	}

	_, err = a.client.ChannelUsers(ctx(t), "news")
	var he *herald.Error
	if !errors.As(err, &he) || he.Status != 400 || he.Code != herald.CodeBadRequest || he.Field == "" || he.RequestID == "" {
		t.Fatalf("users of a public channel: %#v", err)
	}
	if _, err := a.client.Channel(ctx(t), "news", herald.InfoUserCount); !errors.Is(err, herald.ErrBadRequest) {
		t.Fatalf("user_count of a public channel: %v", err)
	}
}

func TestSignInSendToUserAndTerminate(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	p := a.dial(t, "")
	body, err := a.client.AuthenticateUser(p.SocketID, map[string]any{"id": "ann", "user_info": map[string]string{"name": "Ann"}})
	if err != nil {
		t.Fatal(err)
	}
	var signin map[string]any
	if err := jsonUnmarshal(body, &signin); err != nil {
		t.Fatal(err)
	}
	if err := p.Send("pusher:signin", "", signin); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitFor(wait, func(f heraldtest.Frame) bool { return f.Event == "pusher:signin_success" }); err != nil {
		t.Fatal(err)
	}
	res, err := a.client.SendToUser(ctx(t), "ann", "notice", map[string]string{"text": "hello"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Serials["#server-to-user-ann"] == 0 {
		t.Fatalf("serials = %v", res.Serials)
	}
	f, err := p.WaitFor(wait, func(f heraldtest.Frame) bool { return f.Event == "notice" })
	if err != nil {
		t.Fatal(err)
	}
	if f.Channel != "#server-to-user-ann" || f.DataString() != `{"text":"hello"}` {
		t.Fatalf("received %+v", f)
	}

	if err := a.client.TerminateUserConnections(ctx(t), "ann"); err != nil {
		t.Fatal(err)
	}
	_, err = p.WaitFor(wait, func(heraldtest.Frame) bool { return false })
	if !errors.Is(err, heraldtest.ErrClosed) && (err == nil || !isPusherError(err)) {
		t.Fatalf("after TerminateUserConnections: %v, want the connection closed", err)
	}
}

func TestErrors(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	wrong, err := herald.New(herald.Config{AppID: a.app.ID, Key: a.app.Key, Secret: "not-the-secret", BaseURL: a.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wrong.Channels(ctx(t), "")
	var he *herald.Error
	if !errors.As(err, &he) || he.Status != 401 || !errors.Is(err, herald.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	unknown, err := herald.New(herald.Config{AppID: "no-such-app", Key: a.app.Key, Secret: a.app.Secret, BaseURL: a.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unknown.Channels(ctx(t), ""); !errors.Is(err, herald.ErrNotFound) {
		t.Fatalf("unknown app: %v", err)
	}
	if _, err := a.client.Trigger(ctx(t), []string{"bad channel name"}, "e", "d"); !errors.Is(err, herald.ErrBadRequest) {
		t.Fatalf("bad channel name: %v", err)
	}
}

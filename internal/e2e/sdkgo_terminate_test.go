package e2e_test

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
	"github.com/heraldhq/herald/sdk/go/herald"
	"github.com/heraldhq/herald/sdk/go/realtime"
)

// terminate_connections ends a Go realtime client that connects with a
// TokenProvider for good (docs/protocol.md, "Users and their
// connections"): the close's reason tells it not to fetch a new token and
// come back, as it does after any other 4009, and the user leaves
// presence.
func TestSDKGoTerminatedTokenClientStaysClosed(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	srv, err := herald.New(herald.Config{AppID: appID, Key: key, Secret: secret, BaseURL: h.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const room = "presence-sdkgo-term"
	var tokens atomic.Int32
	c, err := realtime.Dial(ctx, realtime.Config{
		URL: h.URL(),
		Key: key,
		TokenProvider: func(context.Context) (string, error) {
			tokens.Add(1)
			tok, err := srv.SignToken(herald.TokenRequest{
				UserID:       "dave",
				Capabilities: herald.Capabilities{room: {herald.OpPresence}},
			})
			if err != nil {
				return "", err
			}
			return tok.Token, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Subscribe(ctx, room, realtime.SubscribeOptions{}); err != nil {
		t.Fatal(err)
	}
	if users, err := srv.ChannelUsers(ctx, room); err != nil || !slices.Equal(users, []string{"dave"}) {
		t.Fatalf("users before = %v, %v", users, err)
	}

	if err := srv.TerminateUserConnections(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	var closed realtime.StateChange
	for sc := range c.States() {
		if sc.Current == realtime.StateReconnecting {
			t.Fatalf("the terminated client reconnects (after %v)", sc.Err)
		}
		closed = sc
	}
	if closed.Current != realtime.StateClosed || !errors.Is(closed.Err, realtime.ErrTerminated) || closed.Code != 4009 {
		t.Fatalf("ended with %+v, want closed by ErrTerminated with 4009", closed)
	}
	if !errors.Is(c.Err(), realtime.ErrTerminated) {
		t.Fatalf("Err = %v", c.Err())
	}
	if n := tokens.Load(); n != 1 {
		t.Fatalf("the token provider was asked %d times, want once", n)
	}
	testinfra.WaitUntil(t, "the terminated user leaves presence", func() bool {
		users, err := srv.ChannelUsers(ctx, room)
		return err == nil && len(users) == 0
	})
}

package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/heraldhq/herald/sdk/go/realtime"
)

// A subscriber of a public channel. The examples need a running Herald
// (herald dev's demo app), so they are compiled, not run.
func Example() {
	ctx := context.Background()
	c, err := realtime.Dial(ctx, realtime.Config{URL: "http://127.0.0.1:6001", Key: "app-key"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	sub, err := c.Subscribe(ctx, "orders", realtime.SubscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for m := range sub.Messages() {
		fmt.Printf("%s %s #%d\n", m.Event, m.Data, m.Serial)
	}
	log.Print("subscription ended: ", sub.Err())
}

func ExampleClient_States() {
	ctx := context.Background()
	c, err := realtime.Dial(ctx, realtime.Config{URL: "http://127.0.0.1:6001", Key: "app-key"})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for sc := range c.States() {
			log.Printf("%s → %s (%v)", sc.Previous, sc.Current, sc.Err)
		}
	}()
	defer c.Close(ctx)
}

func ExampleClient_Publish() {
	ctx := context.Background()
	c, err := realtime.Dial(ctx, realtime.Config{
		URL: "http://127.0.0.1:6001",
		Key: "app-key",
		// Your backend signs channels (the server SDK's AuthorizeChannel).
		Authorizer: func(ctx context.Context, socketID, channel string) (realtime.AuthResponse, error) {
			return askMyBackend(ctx, socketID, channel)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Subscribe(ctx, "private-chat", realtime.SubscribeOptions{}); err != nil {
		log.Fatal(err)
	}
	// The id makes a retry safe: a publish whose context ended may have
	// been stored, and the server stores the same id once.
	const id = "message-7f3a"
	for attempt := range 3 {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		serial, err := c.Publish(actx, "private-chat", "message", map[string]string{"text": "hello"}, realtime.WithPublishID(id))
		cancel()
		if err == nil {
			fmt.Println("stored as", serial)
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			log.Fatal(err) // refused: a retry would be too
		}
		log.Printf("attempt %d: %v", attempt+1, err)
	}
}

func ExampleSubscription_Bind() {
	ctx := context.Background()
	c, err := realtime.Dial(ctx, realtime.Config{URL: "http://127.0.0.1:6001", Key: "app-key", Authorizer: askMyBackend})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	room, err := c.Subscribe(ctx, "presence-room", realtime.SubscribeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	me, _ := room.Me()
	fmt.Println("I am", me.ID, "among", len(room.Members()))
	room.Bind(realtime.EventMemberAdded, func(m realtime.Message) { fmt.Println("joined:", m.Member.ID) })
	room.Bind(realtime.EventMemberRemoved, func(m realtime.Message) { fmt.Println("left:", m.Member.ID) })
	room.Bind(realtime.EventResumed, func(m realtime.Message) {
		if !m.Recovered {
			fmt.Println("missed messages: reload the room")
		}
	})
	if err := room.Trigger(ctx, "client-typing", map[string]bool{"typing": true}); err != nil {
		log.Print(err)
	}
}

func ExampleClient_SignIn() {
	ctx := context.Background()
	c, err := realtime.Dial(ctx, realtime.Config{
		URL: "http://127.0.0.1:6001",
		Key: "app-key",
		UserAuthenticator: func(ctx context.Context, socketID string) (realtime.UserAuth, error) {
			return realtime.UserAuth{}, fmt.Errorf("ask your backend (the server SDK's AuthenticateUser) for %s", socketID)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
	user, err := c.SignIn(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for m := range user.Messages() {
		fmt.Println("to me:", m.Event, string(m.Data))
	}
}

func ExampleConfig_token() {
	ctx := context.Background()
	c, err := realtime.Dial(ctx, realtime.Config{
		URL: "http://127.0.0.1:6001",
		Key: "app-key",
		// Asked at each connection and before the token expires.
		TokenProvider: func(ctx context.Context) (string, error) {
			return "", fmt.Errorf("ask your backend for a Herald token")
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(ctx)
}

func askMyBackend(_ context.Context, socketID, channel string) (realtime.AuthResponse, error) {
	return realtime.AuthResponse{}, fmt.Errorf("POST socket_id=%s&channel_name=%s to your auth endpoint", socketID, channel)
}

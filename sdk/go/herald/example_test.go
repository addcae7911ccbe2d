package herald_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/heraldhq/herald/sdk/go/herald"
)

// The examples use herald dev's demo app; those that call the server
// print nothing, since they need one running.
func exampleClient() *herald.Client {
	client, err := herald.New(herald.Config{
		AppID:   "app-id",
		Key:     "app-key",
		Secret:  "app-secret",
		BaseURL: "http://127.0.0.1:6001",
	})
	if err != nil {
		log.Fatal(err)
	}
	return client
}

func ExampleNew() {
	client, err := herald.New(herald.Config{
		AppID:   "app-id",
		Key:     "app-key",
		Secret:  "app-secret",
		BaseURL: "http://127.0.0.1:6001",
		// Optional: a client of your own, retries, encryption.
		HTTPClient:          &http.Client{Timeout: 10 * time.Second},
		Retry:               herald.RetryPolicy{MaxAttempts: 5, MaxDelay: 10 * time.Second},
		EncryptionMasterKey: []byte("a 32-byte key from your secrets!"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(client.AppID())
	// Output: app-id
}

func ExampleClient_Trigger() {
	client := exampleClient()
	ctx := context.Background()
	order := map[string]any{"id": 42, "total": "9.90"}
	// The idempotency key makes the publish safe to retry: the client
	// retries it on failure, and the server stores it once.
	res, err := client.Trigger(ctx, []string{"orders"}, "created", order,
		herald.WithIdempotencyKey("order-42-created"))
	var he *herald.Error
	switch {
	case errors.Is(err, herald.ErrQuotaExceeded) && errors.As(err, &he):
		log.Printf("over quota; retry in %s", he.RetryAfter)
	case err != nil:
		log.Fatal(err)
	default:
		log.Printf("stored as serial %d", res.Serials["orders"])
	}
}

func ExampleClient_TriggerBatch() {
	client := exampleClient()
	results, err := client.TriggerBatch(context.Background(), []herald.Event{
		{Channel: "orders", Name: "created", Data: map[string]int{"id": 1}, IdempotencyKey: "order-1"},
		{Channel: "stock", Name: "changed", Data: map[string]int{"sku": 7}, IdempotencyKey: "stock-7-3",
			Info: []string{herald.InfoSubscriptionCount}},
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("stock has %d subscribers", results[1].SubscriptionCount)
}

func ExampleClient_SendToUser() {
	client := exampleClient()
	// Delivered to every connection user 42 signed in on.
	if _, err := client.SendToUser(context.Background(), "42", "notification", map[string]string{"text": "Your order shipped"}); err != nil {
		log.Fatal(err)
	}
}

func ExampleClient_Channels() {
	client := exampleClient()
	rooms, err := client.Channels(context.Background(), "presence-", herald.InfoUserCount)
	if err != nil {
		log.Fatal(err)
	}
	for name, info := range rooms {
		log.Printf("%s: %d users", name, info.UserCount)
	}
}

func ExampleClient_Channel() {
	client := exampleClient()
	ch, err := client.Channel(context.Background(), "presence-lobby", herald.InfoUserCount, herald.InfoSubscriptionCount)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("occupied %v: %d users on %d connections", ch.Occupied, ch.UserCount, ch.SubscriptionCount)
}

func ExampleClient_ChannelUsers() {
	client := exampleClient()
	users, err := client.ChannelUsers(context.Background(), "presence-lobby")
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("in the lobby: %v", users)
}

func ExampleClient_TerminateUserConnections() {
	client := exampleClient()
	if err := client.TerminateUserConnections(context.Background(), "42"); err != nil {
		log.Fatal(err)
	}
}

// An auth endpoint: pusher-js posts socket_id and channel_name.
func ExampleClient_AuthorizeChannel() {
	client := exampleClient()
	mux := http.NewServeMux() // served by your backend
	mux.HandleFunc("/pusher/auth", func(w http.ResponseWriter, r *http.Request) {
		user := "42" // from your session; check the user may join the channel
		body, err := client.AuthorizeChannel(r.FormValue("socket_id"), r.FormValue("channel_name"),
			&herald.PresenceMember{UserID: user, UserInfo: map[string]string{"name": "Ann"}})
		if err != nil {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})

	body, _ := client.AuthorizeChannel("123.456", "private-orders", nil)
	fmt.Println(string(body))
	// Output: {"auth":"app-key:fa24923d1d5972f2c827aceb385f438a659796cd37cc4edc043128f78f18790a"}
}

// A user authentication endpoint, for pusher:signin.
func ExampleClient_AuthenticateUser() {
	client := exampleClient()
	body, err := client.AuthenticateUser("123.456", map[string]any{"id": "42", "user_info": map[string]string{"name": "Ann"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(body))
	// Output: {"auth":"app-key:2f0a039c7584fd4bac218a202cbded0ae4f1e9755587b5c3c0b29f774f052449","user_data":"{\"id\":\"42\",\"user_info\":{\"name\":\"Ann\"}}"}
}

func ExampleClient_IssueToken() {
	client := exampleClient()
	tok, err := client.IssueToken(context.Background(), herald.TokenRequest{
		UserID:       "42",
		Capabilities: herald.Capabilities{"private-user-42-*": {herald.OpSubscribe, herald.OpPublish}, "presence-lobby": {herald.OpPresence}},
		TTL:          time.Hour,
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("token until %s: %s", tok.ExpiresAt, tok.Token)
}

func ExampleClient_SignToken() {
	client := exampleClient()
	// Signed locally with the app key's secret: no request to Herald.
	tok, err := client.SignToken(herald.TokenRequest{
		UserID:       "42",
		Capabilities: herald.Capabilities{"private-user-42-*": {herald.OpSubscribe}, "chat-*": {herald.OpHistory}},
		TTL:          15 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.Count(tok.Token, "."))
	// Output: 2
}

func ExampleClient_History() {
	client := exampleClient()
	ctx := context.Background()
	// Oldest first, 500 per request; the loop fetches pages as it goes.
	for msg, err := range client.History(ctx, "chat-general", herald.HistoryOptions{Direction: herald.Forwards, PageSize: 500}) {
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("#%d %s %s", msg.Serial, msg.Event, msg.Data)
	}
}

func ExampleClient_Usage() {
	client := exampleClient()
	now := time.Now()
	usage, err := client.Usage(context.Background(), now.AddDate(0, 0, -7), now, herald.Day)
	if err != nil {
		log.Fatal(err)
	}
	for _, day := range usage.Items {
		log.Printf("%s: %d messages", day.Start.Format(time.DateOnly), day.Messages)
	}
	if left := usage.Remaining.MessagesToday; left != nil {
		log.Printf("%d messages left today", *left)
	}
}

func ExampleClient_VerifyWebhook() {
	client := exampleClient()
	handler := func(w http.ResponseWriter, r *http.Request) {
		events, err := client.VerifyWebhook(r)
		if err != nil {
			http.Error(w, "invalid webhook", http.StatusUnauthorized)
			return
		}
		for _, e := range events {
			fmt.Println(e.Name, e.Channel)
		}
	}

	// What Herald sends: the body signed with the app key's secret.
	body := `{"time_ms":1765000000000,"events":[{"name":"channel_occupied","channel":"orders"}]}`
	mac := hmac.New(sha256.New, []byte("app-secret"))
	mac.Write([]byte(body))
	r := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(body))
	r.Header.Set("X-Pusher-Key", "app-key")
	r.Header.Set("X-Pusher-Signature", hex.EncodeToString(mac.Sum(nil)))
	handler(httptest.NewRecorder(), r)
	// Output: channel_occupied orders
}

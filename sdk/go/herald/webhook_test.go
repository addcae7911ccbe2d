package herald_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/sdk/go/herald"
)

// received is a webhook request Herald sent, as it came.
type received struct {
	header http.Header
	body   []byte
}

// request rebuilds the webhook request, with body in place of its own.
func (r received) request(body []byte) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hooks", bytes.NewReader(body))
	req.Header = r.header.Clone()
	return req
}

// occupancyReported bounds the wait for one subscription's
// channel_occupied webhook before the test tries a new channel.
const occupancyReported = 2 * time.Second

// TestVerifyWebhookFromHerald has Herald send a channel_occupied webhook
// and a test event to a receiver that verifies them with VerifyWebhook,
// then replays what Herald sent with a changed body, signature, key or
// size: each is refused.
func TestVerifyWebhookFromHerald(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	var mu sync.Mutex
	var got []received
	var events []herald.WebhookEvent
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		evs, err := a.client.VerifyWebhook(r)
		if err != nil {
			t.Errorf("Herald's webhook refused: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, received{header: r.Header.Clone(), body: body})
		events = append(events, evs...)
		mu.Unlock()
	}))
	t.Cleanup(receiver.Close)

	var hook struct{ ID string }
	if err := a.srv.Admin(http.MethodPost, "/admin/v1/apps/"+a.app.ID+"/webhooks", map[string]any{
		"url": receiver.URL + "/hooks", "events": []string{herald.WebhookChannelOccupied},
	}, &hook); err != nil {
		t.Fatal(err)
	}
	var result struct{ OK bool }
	if err := a.srv.Admin(http.MethodPost, "/admin/v1/apps/"+a.app.ID+"/webhooks/"+hook.ID+"/test", nil, &result); err != nil || !result.OK {
		t.Fatalf("test event: %+v, %v", result, err)
	}
	// The endpoint's kinds reach the gateways' app config within a second;
	// subscribe until the occupancy is reported.
	eventually(t, "a channel_occupied webhook", func() bool {
		p := a.dial(t, "")
		if err := p.Subscribe("hooked", nil, wait); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(occupancyReported)
		for time.Now().Before(deadline) {
			mu.Lock()
			for _, e := range events {
				if e.Name == herald.WebhookChannelOccupied {
					mu.Unlock()
					return true
				}
			}
			mu.Unlock()
			time.Sleep(poll)
		}
		p.Close()
		return false
	})

	mu.Lock()
	defer mu.Unlock()
	var occupied herald.WebhookEvent
	sawTest := false
	for _, e := range events {
		switch e.Name {
		case herald.WebhookTest:
			sawTest = true
		case herald.WebhookChannelOccupied:
			occupied = e
		}
	}
	if !sawTest || occupied.Channel != "hooked" || !strings.HasPrefix(occupied.DeliveryID, "whd_") ||
		time.Since(occupied.Time) > time.Minute {
		t.Fatalf("events = %+v", events)
	}

	sent := got[len(got)-1]
	if _, err := a.client.VerifyWebhook(sent.request(sent.body)); err != nil {
		t.Fatalf("replayed as sent: %v", err)
	}
	tampered := bytes.Replace(sent.body, []byte("hooked"), []byte("hacked"), 1)
	badSig := sent
	badSig.header = sent.header.Clone()
	badSig.header.Set(herald.HeaderWebhookSignature, strings.Repeat("0", 64))
	otherKey := sent
	otherKey.header = sent.header.Clone()
	otherKey.header.Set(herald.HeaderWebhookKey, "someone-else")
	small, err := herald.New(herald.Config{AppID: a.app.ID, Key: a.app.Key, Secret: a.app.Secret, BaseURL: a.srv.URL, MaxWebhookBytes: 16})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		client *herald.Client
		req    *http.Request
		is     error
	}{
		{"tampered body", a.client, sent.request(tampered), herald.ErrWebhookSignature},
		{"wrong signature", a.client, badSig.request(sent.body), herald.ErrWebhookSignature},
		{"unknown key", a.client, otherKey.request(sent.body), herald.ErrWebhookKey},
		{"over the size bound", small, sent.request(sent.body), herald.ErrWebhookTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs, err := tt.client.VerifyWebhook(tt.req)
			if !errors.Is(err, tt.is) || !errors.Is(err, herald.ErrWebhook) || evs != nil {
				t.Fatalf("VerifyWebhook = %v, %v; want %v", evs, err, tt.is)
			}
		})
	}
}

package webhookevents_test

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald/bus/webhookevents"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testinfra"
)

// testTimeout bounds each NATS call; nothing waits this long when the
// code works.
const testTimeout = 20 * time.Second

func TestMain(m *testing.M) { testinfra.Main(m) }

// An event travels under its app's and channel's subject and comes back
// as it was published; the same id published twice is stored once.
func TestPublishAndDecode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	js := testinfra.JetStream(t, testinfra.NATSConn(t, testinfra.NATS(t)))
	for range 2 { // ensured by every process that starts
		if err := webhookevents.EnsureStream(ctx, js, webhookevents.StreamConfig{}); err != nil {
			t.Fatal(err)
		}
	}
	count := int64(0)
	events := []channels.WebhookEnvelope{
		{AppID: "app1", TimeMS: 1, Event: channels.WebhookEvent{Name: channels.WebhookChannelOccupied, Channel: "presence-room"}},
		{AppID: "app1", TimeMS: 2, Event: channels.WebhookEvent{Name: channels.WebhookSubscriptionCount, Channel: "news", SubscriptionCount: &count}},
	}
	for _, e := range events {
		for range 2 {
			if err := webhookevents.Publish(ctx, js, e, e.Event.Channel+"/"+string(e.Event.Name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	s, err := js.Stream(ctx, webhookevents.Stream)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range events {
		m, err := s.GetMsg(ctx, uint64(i+1))
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if m.Subject != webhookevents.Subject(want.AppID, want.Event.Channel) {
			t.Fatalf("subject = %s", m.Subject)
		}
		got, err := webhookevents.Decode(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		if got.AppID != want.AppID || got.TimeMS != want.TimeMS || got.Event.Name != want.Event.Name || got.Event.Channel != want.Event.Channel {
			t.Fatalf("event %d = %+v, want %+v", i, got, want)
		}
	}
	if _, err := s.GetMsg(ctx, uint64(len(events)+1)); err == nil {
		t.Fatal("an event published twice under one id was stored twice")
	}
	// A count of 0 is a count: it must survive the trip.
	m, _ := s.GetMsg(ctx, 2)
	if got, _ := webhookevents.Decode(m.Data); got.Event.SubscriptionCount == nil || *got.Event.SubscriptionCount != 0 {
		t.Fatalf("subscription_count 0 lost: %s", m.Data)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	if _, err := webhookevents.Decode([]byte("{not json")); err == nil {
		t.Fatal("Decode accepted garbage")
	}
}

func TestEventNames(t *testing.T) {
	for _, n := range channels.DefaultWebhookEventNames() {
		if n == channels.WebhookSubscriptionCount {
			t.Fatal("subscription_count is opt-in, not a default")
		}
	}
	if !channels.WebhookMemberAdded.Valid() || channels.WebhookEventName("member_joined").Valid() {
		t.Fatal("Valid")
	}
}

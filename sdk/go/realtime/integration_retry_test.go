package realtime

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// The client refuses what the server always refuses; the server's own
// refusal is a 4009 nack. Both are ErrNotAllowed.
func testRefusedPublishes(ctx context.Context, t *testing.T, e env) {
	c := e.dial(e.config())
	if _, err := c.Subscribe(ctx, "public-nack", SubscribeOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, "public-nack", "ev", "x"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("publish on a public channel without a token: %v, want ErrNotAllowed", err)
	}
	tok, err := e.token("reader", map[string][]string{"private-ro-*": {"subscribe"}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Authorizer = nil
	cfg.TokenProvider = func(context.Context) (string, error) { return tok, nil }
	s, err := e.dial(cfg).Subscribe(ctx, "private-ro-1", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Publish(ctx, "ev", "x")
	var ne *NackError
	if !errors.As(err, &ne) || ne.Code != 4009 || !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("publish the token does not allow: %v, want a 4009 nack", err)
	}
}

// A retry with the same id (after a publish whose outcome the caller does
// not know) is stored once and acked with the first serial.
func testPublishIDStoredOnce(ctx context.Context, t *testing.T, e env) {
	c := e.dial(e.config())
	s, err := c.Subscribe(ctx, "private-idem", SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.Publish(ctx, "order", `{"id":42}`, WithPublishID("order-42"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Publish(ctx, "order", `{"id":42}`, WithPublishID("order-42"))
	if err != nil || again != first {
		t.Fatalf("the retry = %d, %v; the first publish got %d", again, err, first)
	}
	stored, err := e.history("private-idem")
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0] != first {
		t.Fatalf("history has %v, want [%d]", stored, first)
	}
}

// Subscribing again right after ErrSlowConsumer, as the Subscription's
// doc says to, gives a subscription the server delivers to.
func testResubscribeAfterSlowConsumer(ctx context.Context, t *testing.T, e env) {
	cfg := e.config()
	cfg.MessageBuffer = 1
	c := e.dial(cfg)
	const rounds = 5
	for round := range rounds {
		ch := fmt.Sprintf("resub-%d", round)
		old, err := c.Subscribe(ctx, ch, SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			if _, err := e.trigger(ch, "burst", "x"); err != nil {
				t.Fatal(err)
			}
		}
		// Nothing is read, so the buffer of 1 overflows.
		deadline := time.Now().Add(waitFor)
		for old.Err() == nil && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if !errors.Is(old.Err(), ErrSlowConsumer) {
			t.Fatalf("round %d: the first subscription ended with %v", round, old.Err())
		}
		s, err := c.Subscribe(ctx, ch, SubscribeOptions{})
		if err != nil {
			t.Fatalf("round %d: subscribe again: %v", round, err)
		}
		serial, err := e.trigger(ch, "after", "y")
		if err != nil {
			t.Fatal(err)
		}
		// A burst whose fan-out reached the gateway after the new join is
		// the new subscription's (the unit tests check that what the
		// server sent the old one never arrives).
		for m := next(t, s); m.Event != "after"; m = next(t, s) {
		}
		if got := s.LastSerial(); got != serial {
			t.Fatalf("round %d: last serial %d, want %d", round, got, serial)
		}
	}
}

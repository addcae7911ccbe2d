package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// publishID reads a herald:publish frame's id.
func publishID(t *testing.T, f frame) string {
	t.Helper()
	var d struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(f.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// A publish whose context is already done sends nothing; WithPublishID
// names the publish, so that a retry is stored once.
func TestPublishContextAndID(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, func(c *Config) { c.Authorizer = fakeAuthorizer })
	sock := n.accept(t)
	if _, err := subscribeFake(t, c, sock, "private-chat"); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Publish(canceled, "private-chat", "ev", 1, WithPublishID("first")); !errors.Is(err, context.Canceled) {
		t.Fatalf("publish with a canceled context: %v", err)
	}
	type result struct {
		serial uint64
		err    error
	}
	res := make(chan result, 1)
	go func() {
		serial, err := c.Publish(context.Background(), "private-chat", "ev", 2, WithPublishID("order-42"))
		res <- result{serial, err}
	}()
	f := sock.expect(t, evPublish)
	if id := publishID(t, f); id != "order-42" {
		t.Fatalf("the first publish sent is %s: the canceled one went out, or the id is not the caller's", id)
	}
	sock.send(evAck, "", `{"id":"order-42","serial":7}`, 0)
	if r := <-res; r.err != nil || r.serial != 7 {
		t.Fatalf("publish = %d, %v", r.serial, r.err)
	}
	if _, err := c.Publish(context.Background(), "private-chat", "ev", 3, WithPublishID(strings.Repeat("x", MaxPublishIDLen+1))); err == nil {
		t.Fatal("an id over MaxPublishIDLen must be refused")
	}
}

// The refusals callers branch on are sentinels, and the client refuses
// what the server always refuses with a message that says why.
func TestPublishRefusals(t *testing.T) {
	n := newFakeNet()
	c := fakeClient(t, n, func(c *Config) {
		c.Authorizer = fakeAuthorizer
		c.EncryptionKey = MasterKeyEncryption(testMasterKey)
	})
	sock := n.accept(t)
	ctx := context.Background()
	if _, err := c.Subscribe(ctx, "#server-to-user-1", SubscribeOptions{}); !errors.Is(err, ErrNotSignedIn) {
		t.Fatalf("subscribe to a user channel: %v, want ErrNotSignedIn", err)
	}
	if _, err := c.Publish(ctx, "private-chat", "ev", 1); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("publish on a channel not subscribed: %v, want ErrNotSubscribed", err)
	}
	for channel, why := range map[string]string{
		"private-encrypted-vault": "encrypted channels",
		"news":                    "public channel",
	} {
		s, err := subscribeFake(t, c, sock, channel)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Publish(ctx, "ev", 1)
		if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), why) {
			t.Errorf("publish on %s: %v, want ErrNotAllowed naming %q", channel, err, why)
		}
		if err := s.Trigger(ctx, "client-ev", 1); !errors.Is(err, ErrNotAllowed) {
			t.Errorf("client event on %s: %v, want ErrNotAllowed", channel, err)
		}
	}
	s, err := subscribeFake(t, c, sock, "private-chat")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Unsubscribe(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Publish(ctx, "ev", 1); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("publish on a left subscription: %v, want ErrNotSubscribed", err)
	}
	if err := s.Trigger(ctx, "client-ev", 1); !errors.Is(err, ErrNotSubscribed) {
		t.Fatalf("client event on a left subscription: %v, want ErrNotSubscribed", err)
	}
	if !errors.Is(&NackError{Code: 4009}, ErrNotAllowed) || errors.Is(&NackError{Code: 4400}, ErrNotAllowed) {
		t.Fatal("a 4009 nack, and only it, is ErrNotAllowed")
	}
}

package herald_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald/sdk/go/herald"
	"github.com/heraldhq/herald/sdk/go/internal/encrypted"
	"github.com/heraldhq/herald/sdk/go/internal/heraldtest"
)

func TestTriggerReachesSubscriber(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	sub := a.dial(t, "")
	if err := sub.Subscribe("orders", nil, wait); err != nil {
		t.Fatal(err)
	}
	res, err := a.client.Trigger(ctx(t), []string{"orders", "audit"}, "created", map[string]any{"id": 7},
		herald.WithInfo(herald.InfoSubscriptionCount))
	if err != nil {
		t.Fatal(err)
	}
	if res.Serials["orders"] == 0 || res.Serials["audit"] == 0 {
		t.Fatalf("serials = %v", res.Serials)
	}
	if res.Channels["orders"].SubscriptionCount != 1 || res.Channels["audit"].SubscriptionCount != 0 {
		t.Fatalf("channels = %+v", res.Channels)
	}
	f, err := sub.WaitFor(wait, func(f heraldtest.Frame) bool { return f.Event == "created" })
	if err != nil {
		t.Fatal(err)
	}
	if f.Channel != "orders" || f.DataString() != `{"id":7}` {
		t.Fatalf("received %+v", f)
	}

	// The publisher's own connection is left out with its socket id.
	if _, err := a.client.Trigger(ctx(t), []string{"orders"}, "mine", "x", herald.WithSocketID(sub.SocketID)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.client.Trigger(ctx(t), []string{"orders"}, "theirs", "raw string"); err != nil {
		t.Fatal(err)
	}
	f, err = sub.WaitFor(wait, func(f heraldtest.Frame) bool { return f.Channel == "orders" })
	if err != nil {
		t.Fatal(err)
	}
	if f.Event != "theirs" || f.DataString() != "raw string" {
		t.Fatalf("after an excluded event, received %+v", f)
	}
}

func TestTriggerBatch(t *testing.T) {
	a := newApp(t, nil, herald.Config{})
	sub := a.dial(t, "")
	if err := sub.Subscribe("b", nil, wait); err != nil {
		t.Fatal(err)
	}
	events := []herald.Event{
		{Channel: "a", Name: "one", Data: "1"},
		{Channel: "b", Name: "two", Data: map[string]int{"n": 2}, Info: []string{herald.InfoSubscriptionCount}},
	}
	res, err := a.client.TriggerBatch(ctx(t), events, herald.WithIdempotencyKey("batch-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Serials["a"] == 0 || res[1].Serials["b"] == 0 || res[1].SubscriptionCount != 1 {
		t.Fatalf("batch results = %+v", res)
	}
	again, err := a.client.TriggerBatch(ctx(t), events, herald.WithIdempotencyKey("batch-1"))
	if err != nil {
		t.Fatal(err)
	}
	if again[0].Serials["a"] != res[0].Serials["a"] || again[1].Serials["b"] != res[1].Serials["b"] {
		t.Fatalf("the repeated batch got %+v, the first %+v", again, res)
	}
	if f, err := sub.WaitFor(wait, func(f heraldtest.Frame) bool { return f.Channel == "b" }); err != nil || f.DataString() != `{"n":2}` {
		t.Fatalf("received %+v, %v", f, err)
	}
	if _, err := a.client.TriggerBatch(ctx(t), events, herald.WithSocketID("1.2")); err == nil {
		t.Fatal("a batch-wide socket id was accepted")
	}
	eleven := make([]herald.Event, 11)
	for i := range eleven {
		eleven[i] = herald.Event{Channel: "a", Name: "e", Data: "d"}
	}
	_, err = a.client.TriggerBatch(ctx(t), eleven)
	var he *herald.Error
	if !errors.As(err, &he) || he.Status != 400 || he.Field != "batch" || !errors.Is(err, herald.ErrBadRequest) {
		t.Fatalf("11 events: %v", err)
	}
}

// flaky fails the first answer of every request it is told to, after the
// server handled it: the publish is stored, the client sees a network
// error and retries.
type flaky struct {
	next  http.RoundTripper
	drops atomic.Int32
	sent  atomic.Int32
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.sent.Add(1)
	resp, err := f.next.RoundTrip(r)
	if err == nil && f.drops.Add(-1) >= 0 {
		resp.Body.Close()
		return nil, errors.New("connection reset (simulated)")
	}
	return resp, err
}

func TestRetriedIdempotentPublishIsStoredOnce(t *testing.T) {
	tr := &flaky{next: http.DefaultTransport}
	a := newApp(t, nil, herald.Config{HTTPClient: &http.Client{Transport: tr}, Retry: fast})

	tr.drops.Store(1)
	res, err := a.client.Trigger(ctx(t), []string{"pay"}, "paid", "1", herald.WithIdempotencyKey("pay-1"))
	if err != nil {
		t.Fatal(err)
	}
	if n := tr.sent.Load(); n != 2 {
		t.Fatalf("%d requests, want 2 (one lost answer, one retry)", n)
	}
	again, err := a.client.Trigger(ctx(t), []string{"pay"}, "paid", "1", herald.WithIdempotencyKey("pay-1"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Serials["pay"] != res.Serials["pay"] {
		t.Fatalf("repeat got serial %d, the first %d", again.Serials["pay"], res.Serials["pay"])
	}
	var got []herald.Message
	for m, err := range a.client.History(ctx(t), "pay", herald.HistoryOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m)
	}
	if len(got) != 1 || got[0].Serial != res.Serials["pay"] {
		t.Fatalf("history = %+v, want the one message", got)
	}

	// Without a key the lost answer is an error: the publish is not
	// repeated, since it may have been stored.
	tr.drops.Store(1)
	tr.sent.Store(0)
	if _, err := a.client.Trigger(ctx(t), []string{"pay"}, "paid", "2"); err == nil {
		t.Fatal("a lost answer of an unkeyed publish was not reported")
	}
	if n := tr.sent.Load(); n != 1 {
		t.Fatalf("%d requests for an unkeyed publish, want 1", n)
	}
}

func TestEncryptedChannel(t *testing.T) {
	master := []byte("0123456789abcdef0123456789abcdef")
	a := newApp(t, nil, herald.Config{EncryptionMasterKey: master})
	const channel = "private-encrypted-vault"
	sub := a.dial(t, "")
	authz, err := a.client.ChannelAuthorization(sub.SocketID, channel, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := a.client.AuthorizeChannel(sub.SocketID, channel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sub.Subscribe(channel, body, wait); err != nil {
		t.Fatal(err)
	}
	res, err := a.client.Trigger(ctx(t), []string{channel}, "secret", map[string]string{"pin": "1234"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := sub.WaitFor(wait, func(f heraldtest.Frame) bool { return f.Event == "secret" })
	if err != nil {
		t.Fatal(err)
	}
	// What the subscriber gets is opened with the shared_secret of its
	// authorization, as pusher-js does.
	key, err := encrypted.KeyFromBase64(authz.SharedSecret)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := encrypted.Open(key, f.DataString())
	if err != nil || string(plain) != `{"pin":"1234"}` {
		t.Fatalf("subscriber decrypted %q, %v (data %s)", plain, err, f.DataString())
	}
	for m, err := range a.client.History(ctx(t), channel, herald.HistoryOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if m.Serial != res.Serials[channel] {
			t.Fatalf("history serial %d, want %d", m.Serial, res.Serials[channel])
		}
		if got, err := a.client.DecryptData(channel, m.Data); err != nil || string(got) != `{"pin":"1234"}` {
			t.Fatalf("history data decrypted %q, %v", got, err)
		}
	}

	if _, err := a.client.Trigger(ctx(t), []string{channel, "other"}, "e", "d"); !errors.Is(err, herald.ErrEncryptedMultiple) {
		t.Fatalf("encrypted with another channel: %v", err)
	}
	plainClient, err := herald.New(herald.Config{AppID: a.app.ID, Key: a.app.Key, Secret: a.app.Secret, BaseURL: a.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plainClient.Trigger(ctx(t), []string{channel}, "e", "d"); !errors.Is(err, herald.ErrNoMasterKey) {
		t.Fatalf("encrypted without master key: %v", err)
	}
}

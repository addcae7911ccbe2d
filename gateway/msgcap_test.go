package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/gateway/protocol"
)

// stringify encodes v as JSON.stringify does (no HTML escaping), as
// pusher-js sends it.
func stringify(t *testing.T, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// TestClientMessageCapFits builds the largest legitimate client message of
// each kind, with strings chosen to need the most escaping, and checks
// that each fits its connection's cap: the envelope allowance must cover
// every protocol message, not only event data.
func TestClientMessageCapFits(t *testing.T) {
	const keyLen = 64 // generous for an app key
	auth := strings.Repeat("k", keyLen) + ":" + strings.Repeat("f", 64)
	name := func(prefix string, n int) string { return prefix + strings.Repeat("a", n-len(prefix)) }
	id := strings.Repeat("i", channels.MaxUserIDLen)

	type obj = map[string]any
	settings := []struct {
		name    string
		mutate  func(*channels.Settings)
		ceiling int
	}{
		{"defaults", func(*channels.Settings) {}, DefaultMaxClientMessageBytes},
		{"largest user_info", func(s *channels.Settings) { s.MaxPresenceUserInfoBytes = channels.MaxUserInfoBytesUB }, 1 << 20},
		{"largest data", func(s *channels.Settings) { s.MaxMessageBytes = channels.MaxMessageBytesLimit }, 2 << 20},
	}
	for _, st := range settings {
		app := &channels.AppConfig{ID: "app", Settings: channels.DefaultSettings()}
		st.mutate(&app.Settings)
		s := app.Settings
		limit := clientMessageCap(app, st.ceiling)

		// user_info of exactly the limit, made of quotes: the worst case
		// for the escaping of channel_data inside the subscribe.
		quotes := s.MaxPresenceUserInfoBytes - len(`{"q":""}`)
		userInfo := `{"q":"` + strings.Repeat(`\"`, quotes/2) + strings.Repeat("x", quotes%2) + `"}`
		if len(userInfo) != s.MaxPresenceUserInfoBytes || !json.Valid([]byte(userInfo)) {
			t.Fatalf("user_info of %d bytes", len(userInfo))
		}
		channelData := `{"user_id":` + stringify(t, strings.Repeat(`"`, channels.MaxUserIDLen)) + `,"user_info":` + userInfo + `}`
		watchlist := make([]string, MaxWatchlist)
		for i := range watchlist {
			watchlist[i] = id
		}
		data := strings.Repeat("d", s.MaxMessageBytes)
		// An idempotency id of control characters: 6 bytes each escaped.
		publishID := strings.Repeat("\x01", MaxPublishIDLen)

		msgs := map[string]string{
			"presence subscribe": stringify(t, obj{"event": "pusher:subscribe", "data": obj{
				"channel": name("presence-", channels.MaxChannelNameLen), "auth": auth,
				"channel_data": channelData, "resume_from": uint64(1) << 63, "rewind": 1 << 30, "rewind_ms": int64(1) << 62,
			}}),
			"signin with a full watchlist": stringify(t, obj{"event": "pusher:signin", "data": obj{
				"auth": auth, "user_data": stringify(t, obj{"id": id, "watchlist": watchlist}),
			}}),
			"refresh": stringify(t, obj{"event": protocol.EventRefresh, "data": obj{"token": strings.Repeat("t", channels.MaxTokenLen)}}),
			"client event": stringify(t, obj{
				"event": name("client-", channels.MaxEventNameLen), "channel": name("private-", channels.MaxChannelNameLen),
				"data": json.RawMessage(`"` + data[2:] + `"`),
			}),
			"acked publish": stringify(t, obj{"event": protocol.EventPublish, "data": obj{
				"channel": name("private-", channels.MaxChannelNameLen), "event": name("client-", channels.MaxEventNameLen),
				"data": json.RawMessage(`"` + data[2:] + `"`), "id": publishID,
			}}),
		}
		for kind, m := range msgs {
			t.Logf("%s: %s: %d bytes (cap %d)", st.name, kind, len(m), limit)
			if len(m) > limit {
				t.Errorf("%s: %s is %d bytes, over the cap of %d", st.name, kind, len(m), limit)
			}
		}
		if limit > st.ceiling {
			t.Errorf("%s: cap %d over the ceiling %d", st.name, limit, st.ceiling)
		}
	}
	// The ceiling wins over any app setting.
	app := &channels.AppConfig{ID: "app", Settings: channels.DefaultSettings()}
	app.Settings.MaxMessageBytes = channels.MaxMessageBytesLimit
	if got := clientMessageCap(app, DefaultMaxClientMessageBytes); got != DefaultMaxClientMessageBytes {
		t.Errorf("cap %d, want the ceiling %d", got, DefaultMaxClientMessageBytes)
	}
}

package e2e_test

import (
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/testenv"
)

// TestSubscribeAuthMessages checks that a refused channel signature says
// whether the auth was missing or wrong and what is signed, with this
// socket's id and the channel filled in, keeping Pusher's AuthError 401.
func TestSubscribeAuthMessages(t *testing.T) {
	h := testenv.Herald(t)
	p := testenv.MustDialPusher(t, h.URL(), key)
	cases := []struct {
		name    string
		data    map[string]any
		channel string
		want    []string
	}{
		{
			name: "private without auth", channel: "private-a",
			data: map[string]any{"channel": "private-a"},
			want: []string{"the auth signature is missing", `"<socket_id>:<channel>"`, `"` + p.SocketID + `:private-a"`},
		},
		{
			name: "private with empty auth", channel: "private-b",
			data: map[string]any{"channel": "private-b", "auth": ""},
			want: []string{"the auth signature is missing", `"` + p.SocketID + `:private-b"`},
		},
		{
			name: "presence without auth", channel: "presence-c",
			data: map[string]any{"channel": "presence-c", "channel_data": `{"user_id":"u"}`},
			want: []string{"the auth signature is missing", `"<socket_id>:<channel>:<channel_data>"`, `"` + p.SocketID + `:presence-c:"`},
		},
		{
			name: "private with a wrong signature", channel: "private-d",
			data: map[string]any{"channel": "private-d", "auth": key + ":0000"},
			want: []string{"the auth signature is invalid", `"<socket_id>:<channel>"`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p.Send("pusher:subscribe", "", tc.data)
			e, _ := p.Expect("pusher:subscription_error", tc.channel)
			var d struct {
				Type   string
				Error  string
				Status int
			}
			e.DecodeData(t, &d)
			if d.Type != "AuthError" || d.Status != 401 {
				t.Fatalf("error = %+v, want AuthError 401", d)
			}
			for _, w := range tc.want {
				if !strings.Contains(d.Error, w) {
					t.Errorf("message lacks %s:\n%s", w, d.Error)
				}
			}
		})
	}
}

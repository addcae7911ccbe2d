package e2e_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// TestAdminAppOperations drives an app with the admin token only, as the
// console does: publish (reaching a subscriber), channel queries, presence
// users, history, terminating a user's connections; each refused without
// the admin token, with the app's own credentials, and for unknown apps;
// publishes and terminations are in the audit log without the data.
// quietPeriod is how long a client must receive nothing.
const quietPeriod = 300 * time.Millisecond

func TestAdminAppOperations(t *testing.T) {
	h := testenv.Herald(t)
	key, secret := newApp(t, h, "ops", map[string]any{"history_retention_s": 3600})
	base := "/admin/v1/apps/ops"

	sub := testenv.MustDialPusher(t, h.URL(), key)
	if e := sub.Subscribe("news", key, secret, ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe news: %+v", e)
	}
	member := testenv.MustDialPusher(t, h.URL(), key)
	member.Signin(key, secret, `{"id":"ann"}`)
	if e := member.Subscribe("presence-room", key, secret, `{"user_id":"ann"}`); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("subscribe presence-room: %+v", e)
	}

	var pub struct{ Serials map[string]uint64 }
	if code := h.Admin(t, "POST", base+"/events", map[string]any{
		"name": "greet", "channels": []string{"news", "empty"}, "data": `{"secret":"s3cr3t"}`,
	}, &pub); code != 200 {
		t.Fatalf("admin publish = %d", code)
	}
	if pub.Serials["news"] == 0 || pub.Serials["empty"] == 0 {
		t.Fatalf("serials = %v", pub.Serials)
	}
	if e, _ := sub.Expect("greet", "news"); string(e.Data) != `{"secret":"s3cr3t"}` {
		t.Fatalf("delivered data = %s", e.Data)
	}

	var list struct {
		Channels map[string]struct {
			SubscriptionCount int `json:"subscription_count"`
		}
	}
	testinfra.WaitUntil(t, "channels listed", func() bool {
		code := h.Admin(t, "GET", base+"/channels?info=subscription_count", nil, &list)
		return code == 200 && list.Channels["news"].SubscriptionCount == 1 && len(list.Channels) == 2
	})
	var one struct {
		Occupied  bool
		UserCount int `json:"user_count"`
	}
	if code := h.Admin(t, "GET", base+"/channels/presence-room?info=user_count", nil, &one); code != 200 || !one.Occupied || one.UserCount != 1 {
		t.Fatalf("presence-room = %d %+v", code, one)
	}
	var users struct{ Users []struct{ ID string } }
	if code := h.Admin(t, "GET", base+"/channels/presence-room/users", nil, &users); code != 200 || len(users.Users) != 1 || users.Users[0].ID != "ann" {
		t.Fatalf("users = %d %+v", code, users)
	}

	var hist struct {
		Items []struct {
			Serial uint64
			Event  string
		}
	}
	testinfra.WaitUntil(t, "history of news", func() bool {
		code := h.Admin(t, "GET", base+"/channels/news/messages?limit=10", nil, &hist)
		return code == 200 && len(hist.Items) == 1
	})
	if hist.Items[0].Serial != pub.Serials["news"] || hist.Items[0].Event != "greet" {
		t.Fatalf("history = %+v, published %v", hist.Items, pub.Serials)
	}

	if code := h.Admin(t, "POST", base+"/users/ann/terminate_connections", map[string]any{}, nil); code != 200 {
		t.Fatalf("terminate = %d", code)
	}
	if code := member.ExpectClose(); code != 4009 {
		t.Fatalf("terminated connection closed with %d, want 4009", code)
	}

	var audit struct {
		Items []struct {
			Action  string
			Target  string
			Details json.RawMessage
		}
	}
	if code := h.Admin(t, "GET", "/admin/v1/audit?limit=10", nil, &audit); code != 200 {
		t.Fatalf("audit = %d", code)
	}
	actions := map[string]string{}
	for _, e := range audit.Items {
		if e.Target == "ops" {
			actions[e.Action] = string(e.Details)
		}
	}
	if d := actions["app.publish"]; !strings.Contains(d, `"greet"`) || !strings.Contains(d, `"empty"`) || strings.Contains(d, "s3cr3t") {
		t.Errorf("publish audit details = %q", d)
	}
	if d := actions["app.user.terminate"]; !strings.Contains(d, `"ann"`) {
		t.Errorf("terminate audit details = %q", d)
	}

	t.Run("refusals", func(t *testing.T) {
		body := []byte(`{"name":"x","channel":"news","data":"{}"}`)
		cases := []struct {
			name   string
			path   string
			header func(*http.Request)
			want   int
		}{
			{"no token", base + "/events", func(*http.Request) {}, 401},
			{"app key and secret", base + "/events", func(r *http.Request) { r.SetBasicAuth(key, secret) }, 401},
			{"app secret as bearer", base + "/events", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }, 401},
			{"unknown app", "/admin/v1/apps/nope/events", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+h.AdminToken()) }, 404},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequest("POST", h.URL()+tc.path, bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				tc.header(req)
				if code, b := testenv.Do(t, http.DefaultClient, req); code != tc.want {
					t.Fatalf("= %d %s, want %d", code, b, tc.want)
				}
			})
		}
		// A Pusher-signed request for the admin path is not an admin token.
		q := url.Values{}
		code, _ := testenv.SignedRequest(t, "POST", h.URL(), base+"/events", key, secret, q, body)
		if code != 401 {
			t.Fatalf("pusher-signed admin publish = %d, want 401", code)
		}
		sub.ExpectNothing(quietPeriod)
	})

	t.Run("disabled app", func(t *testing.T) {
		if code := h.Admin(t, "PATCH", base, map[string]any{"enabled": false}, nil); code != 200 {
			t.Fatalf("disable = %d", code)
		}
		testinfra.WaitUntil(t, "publish to a disabled app refused", func() bool {
			var e struct{ Error struct{ Code string } }
			code := h.Admin(t, "POST", base+"/events", map[string]any{"name": "x", "channel": "news", "data": "{}"}, &e)
			return code == 403 && e.Error.Code == string(channels.CodeAppDisabled)
		})
	})
}

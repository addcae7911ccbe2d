package e2e_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// terminateCaps lets a token's user join the test's presence channels.
var terminateCaps = channels.Capabilities{"presence-term-*": {channels.OpPresence}}

// terminatedError is the final pusher:error of a terminated WebSocket:
// Pusher's code and message, and Herald's reason, which tells its SDKs
// not to reconnect.
const terminatedError = `{"code":4009,"message":"connection terminated by the application","reason":"terminated"}`

// terminatedSSEError is the last event of a terminated SSE stream: the
// same data, reason included.
const terminatedSSEError = terminatedError

// userConn is one connection of a user, whatever its transport.
type userConn interface {
	// userEvent fails unless the next event is event on the user's
	// #server-to-user- channel.
	userEvent(event string)
	// terminated fails unless the connection ends as terminate_connections
	// ends it: pusher:error 4009, then the end (close 4009 on a WebSocket).
	terminated()
}

type wsUserConn struct {
	t    *testing.T
	p    *testenv.PusherClient
	user string
}

func (w wsUserConn) userEvent(event string) {
	w.t.Helper()
	w.p.Expect(event, channels.PrefixUser+w.user)
}

func (w wsUserConn) terminated() {
	w.t.Helper()
	if e, _ := w.p.Expect("pusher:error", ""); e.Data != terminatedError {
		w.t.Fatalf("pusher:error = %s, want %s", e.Data, terminatedError)
	}
	if code := w.p.ExpectClose(); code != 4009 {
		w.t.Fatalf("closed with %d, want 4009", code)
	}
}

type sseUserConn struct {
	t *testing.T
	s *sseStream
}

func (c sseUserConn) userEvent(event string) {
	c.t.Helper()
	if e := c.s.nextEvent(); e.event != event {
		c.t.Fatalf("event = %+v, want %s", e, event)
	}
}

func (c sseUserConn) terminated() {
	c.t.Helper()
	if e := c.s.nextEvent(); e.event != "pusher:error" || e.data != terminatedSSEError {
		c.t.Fatalf("final event = %+v, want pusher:error %s", e, terminatedSSEError)
	}
	c.s.expectEnd()
}

// presenceUsers returns the ids of a presence channel's members.
func presenceUsers(t *testing.T, h *testenv.HeraldEnv, channel string) []string {
	t.Helper()
	code, body := testenv.SignedRequest(t, "GET", h.URL(), "/apps/"+appID+"/channels/"+channel+"/users", key, secret, nil, nil)
	if code != 200 {
		t.Fatalf("users = %d %s", code, body)
	}
	var out struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(out.Users))
	for _, u := range out.Users {
		ids = append(ids, u.ID)
	}
	slices.Sort(ids)
	return ids
}

// terminate_connections closes every connection of the user
// (docs/protocol.md, "Users and their connections"): signed in as the
// user, or opened with a token whose sub is the user, WebSocket or SSE.
// Its presence memberships go with it; another user's connection of the
// same kind stays open and keeps its user's events.
func TestTerminateClosesEveryConnectionOfTheUser(t *testing.T) {
	h := testenv.Herald(t)
	for _, tc := range []struct {
		name string
		// open connects as user; joining presence channel room unless
		// room is "" (SSE cannot carry presence).
		open     func(t *testing.T, user, room string) userConn
		presence bool
	}{
		{
			name: "signed-in WebSocket", presence: true,
			open: func(t *testing.T, user, room string) userConn {
				p := testenv.MustDialPusher(t, h.URL(), key)
				p.Signin(key, secret, `{"id":"`+user+`"}`)
				mustSucceed(t, p.Subscribe(room, key, secret, `{"user_id":"`+user+`"}`))
				return wsUserConn{t, p, user}
			},
		},
		{
			name: "token WebSocket", presence: true,
			open: func(t *testing.T, user, room string) userConn {
				tok := tenantToken(t, key, secret, appID, user, time.Hour, terminateCaps)
				p, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tok, nil)
				if err != nil {
					t.Fatal(err)
				}
				// No pusher:signin: the token's sub is the user.
				mustSucceed(t, p.Subscribe(channels.PrefixUser+user, key, "", ""))
				mustSucceed(t, p.Subscribe(room, key, "", ""))
				return wsUserConn{t, p, user}
			},
		},
		{
			name: "token SSE",
			open: func(t *testing.T, user, _ string) userConn {
				tok := tenantToken(t, key, secret, appID, user, time.Hour, terminateCaps)
				s, code, body := openSSE(t, h, sseTokenQuery(tok, channels.PrefixUser+user), "")
				if code != 200 {
					t.Fatalf("open = %d (%s)", code, body)
				}
				return sseUserConn{t, s}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slug := strings.ReplaceAll(tc.name, " ", "-")
			room, gone, stays := "presence-term-"+slug, "gone-"+slug, "stays-"+slug
			kicked, other := tc.open(t, gone, room), tc.open(t, stays, room)
			for user, c := range map[string]userConn{gone: kicked, stays: other} {
				testenv.Trigger(t, h.URL(), appID, key, secret, "before", "x", channels.PrefixUser+user)
				c.userEvent("before")
			}
			if tc.presence {
				if got := presenceUsers(t, h, room); !slices.Equal(got, []string{gone, stays}) {
					t.Fatalf("members before = %v", got)
				}
			}

			status, body := testenv.SignedRequest(t, "POST", h.URL(), "/apps/"+appID+"/users/"+gone+"/terminate_connections", key, secret, nil, []byte(`{}`))
			if status != 200 || strings.TrimSpace(string(body)) != "{}" {
				t.Fatalf("terminate = %d %s", status, body)
			}
			kicked.terminated()

			testenv.Trigger(t, h.URL(), appID, key, secret, "after", "x", channels.PrefixUser+stays)
			other.userEvent("after")
			if tc.presence {
				testinfra.WaitUntil(t, "the terminated user leaves presence", func() bool {
					return slices.Equal(presenceUsers(t, h, room), []string{stays})
				})
			}
		})
	}
}

package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// tenantToken signs a token the way a tenant's backend does.
func tenantToken(t *testing.T, signKey, signSecret, app, sub string, ttl time.Duration, caps channels.Capabilities) string {
	t.Helper()
	tok, err := channels.SignTenantToken(signKey, signSecret, channels.TokenClaims{
		App: app, Capabilities: caps, UserInfo: []byte(`{"name":"T"}`),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(time.Now()),
			ExpiresAt: jwt.NewNumericDate(time.Now().Add(ttl)),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenConnections(t *testing.T) {
	h := testenv.Herald(t)
	caps := channels.Capabilities{
		"private-chat-*":  {channels.OpSubscribe, channels.OpPublish},
		"presence-room-*": {channels.OpPresence},
	}
	tok := tenantToken(t, key, secret, appID, "tina", time.Hour, caps)

	// Both forms: ?token= and the /token/{jwt}/app/{key} path prefix.
	q, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tok, nil)
	if err != nil {
		t.Fatalf("?token=: %v", err)
	}
	p, err := testenv.DialPusher(t, h.URL()+"/token/"+tok, key, "", nil)
	if err != nil {
		t.Fatalf("/token/ path: %v", err)
	}
	_ = q

	// Allowed channels succeed without a signature; others are Forbidden.
	if e := p.Subscribe("private-chat-1", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("capable private subscribe: %+v", e)
	}
	e := p.Subscribe("presence-room-1", key, "", "")
	if e.Event != "pusher_internal:subscription_succeeded" || !strings.Contains(e.Data, `"tina"`) {
		t.Fatalf("presence from the token: %+v", e)
	}
	if e := p.Subscribe("private-secret", key, "", ""); !strings.Contains(e.Data, "Forbidden") || !strings.Contains(e.Data, "403") {
		t.Fatalf("subscribe beyond the capabilities: %+v", e)
	}
	if e := p.Subscribe("news", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("public channel: %+v", e)
	}

	// Publishing needs the publish capability.
	other := testenv.MustDialPusher(t, h.URL(), key)
	other.Subscribe("private-chat-1", key, secret, "")
	p.Send("client-hi", "private-chat-1", map[string]any{"x": 1})
	if got, _ := other.Expect("client-hi", "private-chat-1"); got.Data != `{"x":1}` {
		t.Fatalf("client event with publish: %+v", got)
	}
	p.Send("client-hi", "presence-room-1", map[string]any{})
	if e, _ := p.Expect("pusher:error", ""); !strings.Contains(e.Data, "4009") {
		t.Fatalf("client event without publish: %+v", e)
	}
}

func TestTokenRefusals(t *testing.T) {
	h := testenv.Herald(t)
	otherKey, otherSecret := newApp(t, h, "other-app", nil)
	caps := channels.Capabilities{"*": {channels.OpSubscribe}}
	cases := map[string]string{
		"bad signature":       tenantToken(t, key, "wrong-secret", appID, "u", time.Hour, caps),
		"expired":             tenantToken(t, key, secret, appID, "u", -time.Hour, caps),
		"another app's token": tenantToken(t, otherKey, otherSecret, "other-app", "u", time.Hour, caps),
		"swapped app claim":   tenantToken(t, otherKey, otherSecret, appID, "u", time.Hour, caps),
		"unknown kid":         tenantToken(t, "no-such-key", secret, appID, "u", time.Hour, caps),
		"garbage":             "a.b.c",
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+tok, nil)
			if err == nil || !strings.Contains(err.Error(), "4009") {
				t.Fatalf("err = %v, want 4009", err)
			}
		})
	}
}

func TestTokenExpiresAndDiesWithItsKey(t *testing.T) {
	h := testenv.Herald(t)
	k, s := newApp(t, h, "tok-rev", nil)
	caps := channels.Capabilities{"*": {channels.OpSubscribe}}

	short := tenantToken(t, k, s, "tok-rev", "u", 1500*time.Millisecond, caps)
	p, err := testenv.DialPusher(t, h.URL(), k, "protocol=7&token="+short, nil)
	if err != nil {
		t.Fatal(err)
	}
	// An open connection closes at the token's exp (the 30 s leeway only
	// applies to clock skew when connecting).
	if code := p.ExpectClose(); code != 4009 {
		t.Fatalf("expired token closed with %d", code)
	}

	// A second key signs the token; the connection uses the first key.
	var k2 struct{ Key, Secret string }
	if code := h.Admin(t, "POST", "/admin/v1/apps/tok-rev/keys", map[string]any{}, &k2); code != 201 {
		t.Fatalf("second key = %d", code)
	}
	var signed string
	var q *testenv.PusherClient
	testinfra.WaitUntilWithin(t, "a token of the new key accepted", appChangeDeadline, func() bool {
		signed = tenantToken(t, k2.Key, k2.Secret, "tok-rev", "u", time.Hour, caps)
		q, err = testenv.DialPusher(t, h.URL(), k, "protocol=7&token="+signed, nil)
		return err == nil
	})
	start := time.Now()
	if code := h.Admin(t, "DELETE", "/admin/v1/apps/tok-rev/keys/"+k2.Key, nil, nil); code != 204 {
		t.Fatalf("revoke = %d", code)
	}
	if code := q.ExpectClose(); code != 4009 {
		t.Fatalf("revoked signing key closed the connection with %d", code)
	}
	if took := time.Since(start); took > appChangeDeadline {
		t.Fatalf("took %s", took)
	}
}

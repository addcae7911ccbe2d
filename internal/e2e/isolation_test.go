package e2e_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
)

// The tenant isolation suite (issue 6): with app A's credentials and
// tokens, try every way to reach app B. Every attempt must fail with the
// right error, and B's subscriber, listening on every kind of channel,
// must receive nothing but B's own messages.

// isoTenant is one app of the suite with its credentials.
type isoTenant struct{ id, key, secret string }

func newIsoTenant(t *testing.T, h *testenv.HeraldEnv, id string) isoTenant {
	t.Helper()
	k, s := newApp(t, h, id, map[string]any{"client_events": true})
	return isoTenant{id: id, key: k, secret: s}
}

// signed sends a Pusher-signed REST request as tenant as.
func (as isoTenant) signed(t *testing.T, h *testenv.HeraldEnv, method, path string, body any) (int, string) {
	t.Helper()
	var b []byte
	if body != nil {
		b, _ = json.Marshal(body)
	}
	code, resp := testenv.SignedRequest(t, method, h.URL(), path, as.key, as.secret, nil, b)
	return code, string(resp)
}

// isoRequest sends a request with extra headers and returns the status.
func isoRequest(t *testing.T, method, u string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	code, b := testenv.Do(t, http.DefaultClient, req)
	return code, string(b)
}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}, "Content-Type": {"application/json"}}
}

func basic(user, pass string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	req := http.Request{Header: h}
	req.SetBasicAuth(user, pass)
	return h
}

// platformToken asks the control plane for a token of tenant as.
func (as isoTenant) platformToken(t *testing.T, h *testenv.HeraldEnv, caps channels.Capabilities) string {
	t.Helper()
	code, resp := as.signed(t, h, "POST", "/apps/"+as.id+"/tokens", map[string]any{"user_id": "mallory", "capabilities": caps})
	if code != http.StatusOK {
		t.Fatalf("token for %s = %d: %s", as.id, code, resp)
	}
	var out struct{ Token string }
	if err := json.Unmarshal([]byte(resp), &out); err != nil || out.Token == "" {
		t.Fatalf("token answer %s: %v", resp, err)
	}
	return out.Token
}

// jwtParts splits a compact JWT into its decoded header and claims.
func jwtParts(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, claims
}

// forgeJWT builds a compact JWT from header and claims; sign gets the
// signing input and returns the raw signature (nil for none).
func forgeJWT(t *testing.T, header, claims map[string]any, sign func(input string) []byte) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(header) + "." + enc(claims)
	var sig []byte
	if sign != nil {
		sig = sign(input)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func hs256(key []byte) func(string) []byte {
	return func(input string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(input))
		return m.Sum(nil)
	}
}

// expectRefused dials app key with token and wants 4009.
func expectRefused(t *testing.T, h *testenv.HeraldEnv, appKey, tok string) {
	t.Helper()
	p, err := testenv.DialPusher(t, h.URL(), appKey, "protocol=7&token="+url.QueryEscape(tok), nil)
	if err == nil {
		p.WS().Close()
		t.Fatal("connection accepted")
	}
	if !strings.Contains(err.Error(), "4009") {
		t.Fatalf("err = %v, want 4009", err)
	}
}

func TestTenantIsolation(t *testing.T) {
	h := testenv.Herald(t)
	a := newIsoTenant(t, h, "iso-a")
	b := newIsoTenant(t, h, "iso-b")
	all := channels.Capabilities{"*": {channels.OpSubscribe, channels.OpPublish, channels.OpPresence, channels.OpHistory}}

	// B's subscriber listens on every kind of channel; B publishes once to
	// each so that B's history and cache hold something to steal.
	bSub := testenv.MustDialPusher(t, h.URL(), b.key)
	for _, ch := range []string{"news", "private-b", "cache-b"} {
		if e := bSub.Subscribe(ch, b.key, b.secret, ""); e.Event != "pusher_internal:subscription_succeeded" {
			t.Fatalf("B subscribe %s: %+v", ch, e)
		}
	}
	if e := bSub.Subscribe("presence-b", b.key, b.secret, `{"user_id":"bob"}`); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("B presence: %+v", e)
	}
	testenv.Trigger(t, h.URL(), b.id, b.key, b.secret, "b-own", `"b"`, "news", "private-b", "cache-b")
	awaitAll(t, bSub, "b-own@news", "b-own@private-b", "b-own@cache-b")

	t.Run("REST with A's credentials on B's app", func(t *testing.T) {
		publish := map[string]any{"name": "evil", "data": "x", "channel": "news"}
		cases := []struct{ method, path string }{
			{"POST", "/apps/iso-b/events"},
			{"POST", "/apps/iso-b/batch_events"},
			{"GET", "/apps/iso-b/channels"},
			{"GET", "/apps/iso-b/channels/presence-b"},
			{"GET", "/apps/iso-b/channels/presence-b/users"},
			{"GET", "/apps/iso-b/channels/news/messages"},
			{"POST", "/apps/iso-b/users/bob/terminate_connections"},
			{"POST", "/apps/iso-b/tokens"},
			{"GET", "/apps/iso-b/usage"},
		}
		for _, tc := range cases {
			var body any
			if tc.method == "POST" {
				body = publish
				if strings.HasSuffix(tc.path, "batch_events") {
					body = map[string]any{"batch": []any{publish}}
				}
			}
			if code, resp := a.signed(t, h, tc.method, tc.path, body); code != http.StatusUnauthorized {
				t.Errorf("%s %s signed by A = %d %s, want 401", tc.method, tc.path, code, resp)
			}
			// B's public key with A's secret: still A's secret.
			forged := isoTenant{id: b.id, key: b.key, secret: a.secret}
			if code, _ := forged.signed(t, h, tc.method, tc.path, body); code != http.StatusUnauthorized {
				t.Errorf("%s %s with B's key and A's secret = %d, want 401", tc.method, tc.path, code)
			}
			var raw []byte
			if body != nil {
				raw, _ = json.Marshal(body)
			}
			if code, _ := isoRequest(t, tc.method, h.URL()+tc.path, raw, basic(a.key, a.secret)); code != http.StatusUnauthorized {
				t.Errorf("%s %s with A's Basic auth = %d, want 401", tc.method, tc.path, code)
			}
		}
	})

	t.Run("queries on A show nothing of B", func(t *testing.T) {
		code, resp := a.signed(t, h, "GET", "/apps/iso-a/channels", nil)
		if code != 200 || !strings.Contains(resp, `"channels":{}`) {
			t.Fatalf("A's channels = %d %s, want none", code, resp)
		}
		code, resp = a.signed(t, h, "GET", "/apps/iso-a/channels/presence-b/users", nil)
		if code != 200 || strings.Contains(resp, "bob") {
			t.Fatalf("A's presence-b users = %d %s", code, resp)
		}
		code, resp = a.signed(t, h, "GET", "/apps/iso-a/channels/news", nil)
		if code != 200 || !strings.Contains(resp, `"occupied":false`) {
			t.Fatalf("A's news = %d %s", code, resp)
		}
		code, resp = a.signed(t, h, "GET", "/apps/iso-a/channels/news/messages", nil)
		if code != 200 || strings.Contains(resp, "b-own") {
			t.Fatalf("A's news history = %d %s", code, resp)
		}
	})

	// A's own subscriber: same channel names as B's, other channels.
	aSub := testenv.MustDialPusher(t, h.URL(), a.key)

	t.Run("same channel names reach only A", func(t *testing.T) {
		for _, ch := range []string{"news", "private-b"} {
			if e := aSub.Subscribe(ch, a.key, a.secret, ""); e.Event != "pusher_internal:subscription_succeeded" {
				t.Fatalf("A subscribe %s: %+v", ch, e)
			}
		}
		e := aSub.Subscribe("presence-b", a.key, a.secret, `{"user_id":"alice"}`)
		if e.Event != "pusher_internal:subscription_succeeded" || strings.Contains(e.Data, "bob") {
			t.Fatalf("A's presence-b roster: %+v", e)
		}
		// B's cached event is not A's.
		aSub.Send("pusher:subscribe", "", map[string]any{"channel": "cache-b"})
		aSub.Expect("pusher:cache_miss", "cache-b")
		testenv.Trigger(t, h.URL(), a.id, a.key, a.secret, "a-own", `"a"`, "news", "private-b")
		awaitAll(t, aSub, "a-own@news", "a-own@private-b")
	})

	t.Run("A's channel auth on B's connection", func(t *testing.T) {
		p := testenv.MustDialPusher(t, h.URL(), b.key)
		e := p.Subscribe("private-b", a.key, a.secret, "")
		if e.Event != "pusher:subscription_error" {
			t.Fatalf("A-signed auth on B: %+v", e)
		}
		// B's key name with A's secret.
		p.Send("pusher:subscribe", "", map[string]any{"channel": "private-b",
			"auth": channels.SignAuth(b.key, a.secret, channels.ChannelStringToSign(p.SocketID, "private-b", ""))})
		if e, _ := p.Expect("pusher:subscription_error", "private-b"); !strings.Contains(e.Data, "401") {
			t.Fatalf("B's key with A's secret: %+v", e)
		}
	})

	t.Run("client events and herald:publish stay in A", func(t *testing.T) {
		// A second A connection sees both; the sender is never echoed.
		peer := testenv.MustDialPusher(t, h.URL(), a.key)
		peer.Subscribe("private-b", a.key, a.secret, "")
		aSub.Send("client-evil", "private-b", map[string]any{"x": 1})
		aSub.Send("herald:publish", "", map[string]any{"channel": "private-b", "event": "evil", "data": "x", "id": "iso-1"})
		// The ack and the delivery may come in either order.
		aSub.Expect("herald_internal:ack", "")
		awaitAll(t, peer, "client-evil@private-b", "evil@private-b")
		// Names that look like subject wildcards are refused, not routed.
		for _, ch := range []string{"news.>", "*", ">", "iso-b:news"} {
			aSub.Send("herald:publish", "", map[string]any{"channel": ch, "event": "evil", "data": "x", "id": "iso-w"})
			if e, _ := aSub.Expect("herald_internal:nack", ""); !strings.Contains(e.Data, `"code":`) {
				t.Fatalf("herald:publish to %q: %+v", ch, e)
			}
		}
		code, resp := a.signed(t, h, "POST", "/apps/iso-a/events", map[string]any{"name": "evil", "data": "x", "channels": []string{"news.>", "*"}})
		if code != http.StatusBadRequest {
			t.Fatalf("REST publish to wildcard names = %d %s, want 400", code, resp)
		}
	})

	t.Run("B's socket id and idempotency key", func(t *testing.T) {
		// Excluding B's socket id from A's publish excludes no one in A.
		code, resp := a.signed(t, h, "POST", "/apps/iso-a/events", map[string]any{"name": "excl", "data": "x", "channel": "news", "socket_id": bSub.SocketID})
		if code != 200 {
			t.Fatalf("publish with B's socket id = %d %s", code, resp)
		}
		aSub.Expect("excl", "news")

		// The same idempotency key in both apps: two messages, each in its app.
		idem := func(as isoTenant) string {
			body := []byte(`{"name":"idem","data":"` + as.id + `","channel":"news"}`)
			h2 := basic(as.key, as.secret)
			h2.Set("Idempotency-Key", "shared-key")
			code, resp := isoRequest(t, "POST", h.URL()+"/apps/"+as.id+"/events", body, h2)
			if code != 200 {
				t.Fatalf("idempotent publish %s = %d %s", as.id, code, resp)
			}
			return resp
		}
		rb := idem(b)
		if e, _ := bSub.Expect("idem", "news"); e.Data != "iso-b" {
			t.Fatalf("B's idempotent message: %+v", e)
		}
		ra := idem(a)
		if e, _ := aSub.Expect("idem", "news"); e.Data != "iso-a" {
			t.Fatalf("A's message with B's idempotency key: %+v", e)
		}
		if ra == rb {
			t.Fatalf("A's publish answered with B's serials: %s", ra)
		}
	})

	t.Run("tokens", func(t *testing.T) {
		now := time.Now()
		claims := func(app string, mod func(map[string]any)) map[string]any {
			c := map[string]any{"app": app, "sub": "mallory", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
				"capabilities": map[string]any{"*": []string{"subscribe", "publish", "presence", "history"}}}
			if mod != nil {
				mod(c)
			}
			return c
		}
		hsHeader := func(kid string) map[string]any { return map[string]any{"alg": "HS256", "typ": "JWT", "kid": kid} }
		aTenant := forgeJWT(t, hsHeader(a.key), claims(a.id, nil), hs256([]byte(a.secret)))
		aPlatform := a.platformToken(t, h, all)
		pHeader, pClaims := jwtParts(t, aPlatform)
		kid, _ := pHeader["kid"].(string)
		pub, ok := jwksKey(t, h, kid)
		if !ok {
			t.Fatalf("the JWKS does not list the signing key %q", kid)
		}
		pParts := strings.Split(aPlatform, ".")

		// Each token is refused on B's key; the ones marked own are also
		// refused on A's key (only A's genuine tokens may pass there).
		cases := []struct {
			name string
			tok  string
			own  bool
		}{
			{name: "A's tenant token reused on B", tok: aTenant},
			{name: "A's platform token reused on B", tok: aPlatform},
			{name: "B's kid signed with A's secret", tok: forgeJWT(t, hsHeader(b.key), claims(b.id, nil), hs256([]byte(a.secret))), own: true},
			{name: "A's key claiming app B", tok: forgeJWT(t, hsHeader(a.key), claims(b.id, nil), hs256([]byte(a.secret))), own: true},
			{name: "alg none", tok: forgeJWT(t, map[string]any{"alg": "none", "typ": "JWT", "kid": a.key}, claims(a.id, nil), nil), own: true},
			{name: "alg none on B", tok: forgeJWT(t, map[string]any{"alg": "none", "typ": "JWT", "kid": b.key}, claims(b.id, nil), nil), own: true},
			{name: "HS256 signed with the JWKS public key", tok: forgeJWT(t, hsHeader(kid), claims(b.id, nil), hs256(pub)), own: true},
			{name: "HS256 signed with the JWKS x string", tok: forgeJWT(t, hsHeader(kid), claims(b.id, nil), hs256([]byte(base64.RawURLEncoding.EncodeToString(pub)))), own: true},
			{name: "HS384", tok: forgeJWT(t, map[string]any{"alg": "HS384", "kid": a.key}, claims(a.id, nil), hs256([]byte(a.secret))), own: true},
			{name: "forged unknown kid", tok: forgeJWT(t, hsHeader("no-such-key"), claims(b.id, nil), hs256([]byte(a.secret))), own: true},
			{name: "expired", tok: forgeJWT(t, hsHeader(a.key), claims(a.id, func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }), hs256([]byte(a.secret))), own: true},
			{name: "not yet valid", tok: forgeJWT(t, hsHeader(a.key), claims(a.id, func(c map[string]any) { c["nbf"] = now.Add(time.Hour).Unix() }), hs256([]byte(a.secret))), own: true},
			{name: "issued in the future", tok: forgeJWT(t, hsHeader(a.key), claims(a.id, func(c map[string]any) { c["iat"] = now.Add(time.Hour).Unix() }), hs256([]byte(a.secret))), own: true},
			{name: "no exp", tok: forgeJWT(t, hsHeader(a.key), claims(a.id, func(c map[string]any) { delete(c, "exp") }), hs256([]byte(a.secret))), own: true},
			{name: "lifetime over 24 h", tok: forgeJWT(t, hsHeader(a.key), claims(a.id, func(c map[string]any) { c["exp"] = now.Add(48 * time.Hour).Unix() }), hs256([]byte(a.secret))), own: true},
			{name: "tampered tenant signature", tok: aTenant[:len(aTenant)-2] + flip(aTenant[len(aTenant)-2:]), own: true},
			{name: "tampered platform signature", tok: aPlatform[:len(aPlatform)-2] + flip(aPlatform[len(aPlatform)-2:]), own: true},
			{name: "platform token with app swapped to B", tok: reencode(t, pHeader, pClaims, pParts[2], nil, func(c map[string]any) { c["app"] = b.id }), own: true},
			{name: "platform token with kid swapped", tok: reencode(t, pHeader, pClaims, pParts[2], func(hd map[string]any) { hd["kid"] = a.key }, nil), own: true},
			{name: "platform token as HS256 with A's secret", tok: reencode(t, pHeader, pClaims, "", func(hd map[string]any) { hd["alg"] = "HS256" }, nil), own: true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				expectRefused(t, h, b.key, tc.tok)
				if tc.own {
					expectRefused(t, h, a.key, tc.tok)
				}
				// The same token is no key to B's history either.
				code, _ := isoRequest(t, "GET", h.URL()+"/apps/iso-b/channels/news/messages", nil, bearer(tc.tok))
				if code != http.StatusUnauthorized {
					t.Fatalf("B's history with the token = %d, want 401", code)
				}
				// Nor to B's usage, which takes no tokens at all.
				if code, _ := isoRequest(t, "GET", h.URL()+"/apps/iso-b/usage", nil, bearer(tc.tok)); code != http.StatusUnauthorized {
					t.Fatalf("B's usage with the token = %d, want 401", code)
				}
			})
		}

		// A's genuine tokens work on A, which shows the refusals above are
		// about B and the forgeries, not a broken token path.
		for _, tok := range []string{aTenant, aPlatform} {
			p, err := testenv.DialPusher(t, h.URL(), a.key, "protocol=7&token="+tok, nil)
			if err != nil {
				t.Fatalf("A's own token on A: %v", err)
			}
			if e := p.Subscribe("private-b", a.key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
				t.Fatalf("A's token on A's private-b: %+v", e)
			}
			p.WS().Close()
		}
		if code, resp := isoRequest(t, "GET", h.URL()+"/apps/iso-a/channels/news/messages", nil, bearer(aPlatform)); code != 200 || strings.Contains(resp, "b-own") {
			t.Fatalf("A's history with A's token = %d %s", code, resp)
		}
		// Tokens are no admin credentials, and neither are app secrets.
		for _, hd := range []http.Header{bearer(aPlatform), bearer(aTenant), basic(a.key, a.secret)} {
			if code, _ := isoRequest(t, "GET", h.URL()+"/admin/v1/apps/iso-b", nil, hd); code != http.StatusUnauthorized {
				t.Fatalf("admin API with tenant credentials = %d, want 401", code)
			}
		}
		// SSE: A's token opens nothing of B's.
		for _, tok := range []string{aTenant, aPlatform} {
			q := url.Values{"key": {b.key}, "channel": {"private-b"}, "token": {tok}}
			if code, _ := isoRequest(t, "GET", h.URL()+"/sse?"+q.Encode(), nil, http.Header{}); code != http.StatusUnauthorized {
				t.Fatalf("SSE on B with A's token = %d, want 401", code)
			}
		}
	})

	// After all of it, B's subscriber heard nothing (it already took its
	// own messages; the idempotency one too).
	bSub.ExpectNothing(500 * time.Millisecond)
}

// awaitAll reads p's events until every one of events (event or
// event@channel) has arrived: events on different channels may come in any
// order.
func awaitAll(t *testing.T, p *testenv.PusherClient, events ...string) {
	t.Helper()
	want := map[string]bool{}
	for _, e := range events {
		want[e] = true
	}
	for len(want) > 0 {
		e, err := p.Next()
		if err != nil {
			t.Fatalf("waiting for %v: %v", want, err)
		}
		delete(want, e.Event)
		delete(want, e.Event+"@"+e.Channel)
	}
}

// flip changes a base64url suffix so that the signature no longer matches.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

// reencode re-encodes a token with a modified header or claims (either
// mod may be nil) and sig as its signature: the old one, or none.
func reencode(t *testing.T, header, claims map[string]any, sig string, modHeader, modClaims func(map[string]any)) string {
	t.Helper()
	hd, c := maps.Clone(header), maps.Clone(claims)
	if modHeader != nil {
		modHeader(hd)
	}
	if modClaims != nil {
		modClaims(c)
	}
	tok := forgeJWT(t, hd, c, nil)
	return strings.TrimSuffix(tok, ".") + "." + sig
}

package api_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// tenantCall sends a tenant API request with the demo app's Basic
// credentials (or the headers h when not nil) and returns the answer.
func tenantCall(tb testing.TB, h *testenv.HeraldEnv, method, path string, hdr http.Header, body any) (int, http.Header, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, h.URL()+path, requestBody(tb, body))
	if err != nil {
		tb.Fatal(err)
	}
	if hdr == nil {
		req.SetBasicAuth(testenv.AppKey, testenv.AppSecret)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	return testenv.DoHeader(tb, http.DefaultClient, req)
}

type issuedToken struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// jwks fetches the key set and returns the keys by kid.
func jwks(tb testing.TB, h *testenv.HeraldEnv) (map[string]ed25519.PublicKey, http.Header) {
	tb.Helper()
	code, hdr, body := tenantCall(tb, h, http.MethodGet, "/.well-known/jwks.json", http.Header{}, nil)
	if code != http.StatusOK {
		tb.Fatalf("jwks = %d %s", code, body)
	}
	var set struct {
		Keys []struct{ Kty, Crv, X, Kid, Use, Alg string }
	}
	if err := json.Unmarshal(body, &set); err != nil {
		tb.Fatal(err)
	}
	out := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || k.Kty != "OKP" || k.Crv != "Ed25519" || k.Use != "sig" || k.Alg != "EdDSA" || len(x) != ed25519.PublicKeySize {
			tb.Fatalf("jwk %+v (%v)", k, err)
		}
		out[k.Kid] = x
	}
	return out, hdr
}

// jwksKeys verifies platform tokens with a fetched key set only.
type jwksKeys map[string]ed25519.PublicKey

func (jwksKeys) HMACSecret(string) ([]byte, string, bool) { return nil, "", false }
func (k jwksKeys) EdDSAKey(kid string) (ed25519.PublicKey, bool) {
	pub, ok := k[kid]
	return pub, ok
}

func TestCreateAppToken(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	path := "/apps/" + testenv.AppID + "/tokens"

	before := time.Now().Truncate(time.Second)
	code, _, body := tenantCall(t, h, http.MethodPost, path, nil, map[string]any{
		"user_id": "u1", "user_info": map[string]any{"name": "Ann"},
		"capabilities": map[string]any{"private-chat-*": []string{"subscribe", "publish"}},
	})
	if code != http.StatusOK {
		t.Fatalf("create token = %d %s", code, body)
	}
	var tok issuedToken
	if err := json.Unmarshal(body, &tok); err != nil {
		t.Fatal(err)
	}
	if d := tok.ExpiresAt.Sub(before); d < time.Hour || d > time.Hour+2*time.Second {
		t.Errorf("expires_at %s is not an hour away (default TTL)", tok.ExpiresAt)
	}
	keys, hdr := jwks(t, h)
	if cc := hdr.Get("Cache-Control"); !strings.Contains(cc, "max-age=60") {
		t.Errorf("jwks Cache-Control = %q", cc)
	}
	claims, err := channels.VerifyToken(tok.Token, jwksKeys(keys), time.Now())
	if err != nil {
		t.Fatalf("token does not verify with the JWKS: %v", err)
	}
	if claims.App != testenv.AppID || claims.Subject != "u1" || string(claims.UserInfo) != `{"name":"Ann"}` ||
		!claims.Capabilities.Allows("private-chat-1", channels.OpPublish) || claims.TenantSigned ||
		claims.ExpiresAt.Time.Unix() != tok.ExpiresAt.Unix() {
		t.Errorf("claims = %+v", claims)
	}

	// ttl_s within bounds is honored.
	code, _, body = tenantCall(t, h, http.MethodPost, path, nil, map[string]any{"capabilities": map[string]any{}, "ttl_s": 60})
	if json.Unmarshal(body, &tok) != nil || code != http.StatusOK || time.Until(tok.ExpiresAt) > 61*time.Second {
		t.Errorf("ttl_s 60 = %d %s", code, body)
	}

	long := strings.Repeat("x", channels.MaxUserIDLen+1)
	bigInfo := `"` + strings.Repeat("i", channels.DefaultMaxPresenceUserInfoBytes) + `"`
	bad := []struct {
		name, body, field string
	}{
		{"ttl over 24 h", `{"capabilities":{},"ttl_s":90000}`, "ttl_s"},
		{"ttl zero", `{"capabilities":{},"ttl_s":0}`, "ttl_s"},
		{"ttl negative", `{"capabilities":{},"ttl_s":-5}`, "ttl_s"},
		{"ttl not a number", `{"capabilities":{},"ttl_s":"1h"}`, "ttl_s"},
		{"no capabilities", `{"user_id":"u"}`, "capabilities"},
		{"null capabilities", `{"capabilities":null}`, "capabilities"},
		{"capabilities not an object", `{"capabilities":["*"]}`, "capabilities"},
		{"unknown operation", `{"capabilities":{"*":["admin"]}}`, "capabilities"},
		{"bad pattern", `{"capabilities":{"a b":["subscribe"]}}`, "capabilities"},
		{"user_id too long", `{"capabilities":{},"user_id":"` + long + `"}`, "user_id"},
		{"user_info too large", `{"capabilities":{},"user_info":` + bigInfo + `}`, "user_info"},
		{"unknown field", `{"capabilities":{},"scope":"x"}`, "scope"},
		{"user_id with NUL", `{"capabilities":{},"user_id":"a\u0000b"}`, "user_id"},
		{"user_info with invalid UTF-8", "{\"capabilities\":{},\"user_info\":{\"n\":[\"\xff\"]}}", "user_info.n[0]"},
		{"pattern with an unpaired surrogate", `{"capabilities":{"\udc00-*":["subscribe"]}}`, "capabilities"},
	}
	for _, c := range bad {
		code, _, body := tenantCall(t, h, http.MethodPost, path, nil, c.body)
		t.Run(c.name, func(t *testing.T) {
			wantAPIError(t, code, body, http.StatusBadRequest, "bad_request", c.field)
		})
	}

	// Authenticated like every tenant route.
	code, _, body = tenantCall(t, h, http.MethodPost, path, http.Header{}, `{"capabilities":{}}`)
	wantAPIError(t, code, body, http.StatusUnauthorized, "", "")
	wrong := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(testenv.AppKey+":nope"))}}
	code, _, body = tenantCall(t, h, http.MethodPost, path, wrong, `{"capabilities":{}}`)
	wantAPIError(t, code, body, http.StatusUnauthorized, "", "")
}

func TestCreateAppTokenDisabledApp(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	creds := createApp(t, h, "tok-off")
	req, _ := http.NewRequest(http.MethodPatch, h.URL()+"/admin/v1/apps/tok-off", strings.NewReader(`{"enabled":false}`))
	req.Header.Set("Authorization", "Bearer "+h.AdminToken())
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(creds.Key+":"+creds.Secret))}}
	var code int
	var body []byte
	testinfra.WaitUntilWithin(t, "the disabled app refused", historyTimeout, func() bool {
		code, _, body = tenantCall(t, h, http.MethodPost, "/apps/tok-off/tokens", basic, `{"capabilities":{}}`)
		return code != http.StatusOK
	})
	wantAPIError(t, code, body, http.StatusForbidden, "app_disabled", "")
}

// TestHistoryWithBearerToken: clients read history with a token whose
// capabilities grant history on the channel, platform or tenant signed.
func TestHistoryWithBearerToken(t *testing.T) {
	t.Parallel()
	h := testenv.Herald(t)
	other := createApp(t, h, "bearer-other")
	issue := func(caps string) string {
		t.Helper()
		code, _, body := tenantCall(t, h, http.MethodPost, "/apps/"+testenv.AppID+"/tokens", nil, `{"capabilities":`+caps+`}`)
		var tok issuedToken
		if code != http.StatusOK || json.Unmarshal(body, &tok) != nil {
			t.Fatalf("create token = %d %s", code, body)
		}
		return tok.Token
	}
	tenant := func(key, secret, app string, caps channels.Capabilities) string {
		t.Helper()
		tok, err := channels.SignTenantToken(key, secret, channels.TokenClaims{
			App: app, Capabilities: caps,
			RegisteredClaims: jwt.RegisteredClaims{
				IssuedAt: jwt.NewNumericDate(time.Now()), ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour)),
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	history := channels.Capabilities{"private-log-*": {channels.OpHistory}}
	cases := []struct {
		name, token, channel string
		want                 int
	}{
		{"platform token with history", issue(`{"private-log-*":["history"]}`), "private-log-1", http.StatusOK},
		{"platform token, channel not granted", issue(`{"private-log-*":["history"]}`), "private-other", http.StatusForbidden},
		{"platform token without history", issue(`{"private-log-*":["subscribe"]}`), "private-log-1", http.StatusForbidden},
		{"tenant token with history", tenant(testenv.AppKey, testenv.AppSecret, testenv.AppID, history), "private-log-1", http.StatusOK},
		{"another app's tenant token", tenant(other.Key, other.Secret, "bearer-other", history), "private-log-1", http.StatusUnauthorized},
		{"tenant token with a wrong secret", tenant(testenv.AppKey, "wrong", testenv.AppID, history), "private-log-1", http.StatusUnauthorized},
		{"garbage", "a.b.c", "private-log-1", http.StatusUnauthorized},
	}
	for _, c := range cases {
		code, _, body := tenantCall(t, h, http.MethodGet, "/apps/"+testenv.AppID+"/channels/"+c.channel+"/messages",
			http.Header{"Authorization": {"Bearer " + c.token}}, nil)
		t.Run(c.name, func(t *testing.T) {
			if code != c.want {
				t.Fatalf("status %d, want %d: %s", code, c.want, body)
			}
		})
	}
	// The platform token of one app does not read another's history.
	tok := issue(`{"*":["history"]}`)
	code, _, body := tenantCall(t, h, http.MethodGet, "/apps/bearer-other/channels/c/messages",
		http.Header{"Authorization": {"Bearer " + tok}}, nil)
	wantAPIError(t, code, body, http.StatusUnauthorized, "unauthorized", "")
}

// BenchmarkCreateAppToken measures POST /apps/{id}/tokens end to end over
// loopback HTTP: authentication, the signer read from Postgres, EdDSA.
func BenchmarkCreateAppToken(b *testing.B) {
	h := testenv.Herald(b)
	body := `{"user_id":"u","capabilities":{"private-chat-*":["subscribe","publish"]},"ttl_s":600}`
	path := "/apps/" + testenv.AppID + "/tokens"
	b.ReportAllocs()
	for b.Loop() {
		if code, _, out := tenantCall(b, h, http.MethodPost, path, nil, body); code != http.StatusOK {
			b.Fatalf("create token = %d %s", code, out)
		}
	}
}

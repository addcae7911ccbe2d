package e2e_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/internal/testenv"
	"github.com/heraldhq/herald/internal/testinfra"
)

// tenantPost sends a tenant API request with the demo app's Basic
// credentials and decodes a 200 answer into out.
func tenantPost(t *testing.T, h *testenv.HeraldEnv, path, body string, out any) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, h.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(key, secret)
	req.Header.Set("Content-Type", "application/json")
	code, raw := testenv.Do(t, http.DefaultClient, req)
	if code == http.StatusOK && out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
	return code, string(raw)
}

// platformToken asks the control plane for a token with caps (a JSON
// object) and returns it with its kid.
func platformToken(t *testing.T, h *testenv.HeraldEnv, caps string) (tok, kid string) {
	t.Helper()
	var out struct{ Token string }
	code, body := tenantPost(t, h, "/apps/"+appID+"/tokens", `{"user_id":"pat","capabilities":`+caps+`}`, &out)
	if code != http.StatusOK {
		t.Fatalf("POST tokens = %d %s", code, body)
	}
	parsed, _, err := jwt.NewParser().ParseUnverified(out.Token, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ = parsed.Header["kid"].(string)
	if kid == "" || parsed.Method.Alg() != "EdDSA" {
		t.Fatalf("token header = %v", parsed.Header)
	}
	return out.Token, kid
}

// jwksKey fetches the JWKS and returns kid's public key, if listed.
func jwksKey(t *testing.T, h *testenv.HeraldEnv, kid string) (ed25519.PublicKey, bool) {
	t.Helper()
	res, err := http.Get(h.URL() + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct{ Keys []struct{ Kid, X string } }
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	for _, k := range set.Keys {
		if k.Kid == kid {
			x, err := base64.RawURLEncoding.DecodeString(k.X)
			if err != nil {
				t.Fatal(err)
			}
			return x, true
		}
	}
	return nil, false
}

// historyStatus reads a channel's history with a Bearer token.
func historyStatus(t *testing.T, h *testenv.HeraldEnv, channel, tok string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.URL()+"/apps/"+appID+"/channels/"+channel+"/messages", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestPlatformTokens(t *testing.T) {
	h := testenv.Herald(t)
	caps := `{"private-chat-*":["subscribe"],"private-log-*":["history"]}`
	oldTok, oldKid := platformToken(t, h, caps)

	// The JWKS publishes the signing key, and its x verifies the token.
	pub, ok := jwksKey(t, h, oldKid)
	if !ok {
		t.Fatalf("JWKS does not list %s", oldKid)
	}
	if _, err := jwt.Parse(oldTok, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"EdDSA"})); err != nil {
		t.Fatalf("token does not verify with the JWKS key: %v", err)
	}

	// The gateway verifies it offline: allowed private channels need no
	// signature, others are Forbidden.
	oldConn, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+oldTok, nil)
	if err != nil {
		t.Fatalf("connect with a platform token: %v", err)
	}
	if e := oldConn.Subscribe("private-chat-1", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("allowed private channel: %+v", e)
	}
	if e := oldConn.Subscribe("private-secret", key, "", ""); !strings.Contains(e.Data, "Forbidden") {
		t.Fatalf("channel beyond the capabilities: %+v", e)
	}

	// History with a Bearer token needs the history capability.
	if code := historyStatus(t, h, "private-log-1", oldTok); code != http.StatusOK {
		t.Errorf("history with the capability = %d", code)
	}
	if code := historyStatus(t, h, "private-chat-1", oldTok); code != http.StatusForbidden {
		t.Errorf("history without the capability = %d", code)
	}
	if code, body := tenantPost(t, h, "/apps/"+appID+"/tokens", `{"capabilities":{},"ttl_s":90000}`, nil); code != http.StatusBadRequest ||
		!strings.Contains(body, `"ttl_s"`) {
		t.Errorf("ttl of 25 h = %d %s", code, body)
	}

	// Rotate: new tokens carry the new kid; old tokens still verify.
	var rotated struct{ KID string }
	if code := h.Admin(t, http.MethodPost, "/admin/v1/signing-keys/rotate", nil, &rotated); code != http.StatusCreated {
		t.Fatalf("rotate = %d", code)
	}
	newTok, newKid := platformToken(t, h, caps)
	if newKid != rotated.KID || newKid == oldKid {
		t.Fatalf("token kid after rotation = %s, rotated to %s (old %s)", newKid, rotated.KID, oldKid)
	}
	var newConn *testenv.PusherClient
	testinfra.WaitUntilWithin(t, "the gateway to know the new key", appChangeDeadline, func() bool {
		newConn, err = testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+newTok, nil)
		return err == nil
	})
	if _, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+oldTok, nil); err != nil {
		t.Fatalf("old-kid token after rotation: %v", err)
	}
	if _, ok := jwksKey(t, h, oldKid); !ok {
		t.Fatal("JWKS dropped the old key at rotation")
	}

	// Retire the old key: its open connection closes with 4009, new
	// connections with its tokens fail, the new key's go on.
	if code := h.Admin(t, http.MethodDelete, "/admin/v1/signing-keys/"+oldKid, nil, nil); code != http.StatusNoContent {
		t.Fatalf("retire = %d", code)
	}
	if code := oldConn.ExpectClose(); code != 4009 {
		t.Fatalf("connection of a retired key closed with %d", code)
	}
	testinfra.WaitUntilWithin(t, "old-kid tokens refused", appChangeDeadline, func() bool {
		_, err := testenv.DialPusher(t, h.URL(), key, "protocol=7&token="+oldTok, nil)
		if err != nil && !strings.Contains(err.Error(), "4009") {
			t.Fatalf("old-kid token refused with %v, want 4009", err)
		}
		return err != nil
	})
	if _, ok := jwksKey(t, h, oldKid); ok {
		t.Fatal("JWKS still lists the retired key")
	}
	if code := historyStatus(t, h, "private-log-1", oldTok); code != http.StatusUnauthorized {
		t.Errorf("history with a retired key's token = %d", code)
	}
	if e := newConn.Subscribe("private-chat-2", key, "", ""); e.Event != "pusher_internal:subscription_succeeded" {
		t.Fatalf("new-key connection after retirement: %+v", e)
	}
}

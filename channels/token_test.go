package channels_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/channels"
)

// keyring is a TokenKeys for tests: app keys of two apps and one
// platform signing key.
type keyring struct {
	pub ed25519.PublicKey
}

func (k keyring) HMACSecret(kid string) ([]byte, string, bool) {
	switch kid {
	case "key-a":
		return []byte("secret-a"), "app-a", true
	case "key-b":
		return []byte("secret-b"), "app-b", true
	}
	return nil, "", false
}

func (k keyring) EdDSAKey(kid string) (ed25519.PublicKey, bool) {
	if kid == "sk-1" {
		return k.pub, true
	}
	return nil, false
}

var tokenNow = time.Unix(1_800_000_000, 0)

func claimsFor(app string, exp time.Duration) channels.TokenClaims {
	return channels.TokenClaims{
		App:          app,
		Capabilities: channels.Capabilities{"private-chat-*": {channels.OpSubscribe}},
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   "user-1",
			IssuedAt:  jwt.NewNumericDate(tokenNow),
			ExpiresAt: jwt.NewNumericDate(tokenNow.Add(exp)),
		},
	}
}

func TestVerifyToken(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	keys := keyring{pub: pub}
	must := func(s string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tenant := must(channels.SignTenantToken("key-a", "secret-a", claimsFor("app-a", time.Hour)))
	platform := must(channels.SignPlatformToken("sk-1", priv, claimsFor("app-a", time.Hour)))

	for name, tok := range map[string]string{"tenant": tenant, "platform": platform} {
		c, err := channels.VerifyToken(tok, keys, tokenNow)
		if err != nil || c.App != "app-a" || c.Subject != "user-1" || !c.Capabilities.Allows("private-chat-1", channels.OpSubscribe) {
			t.Fatalf("%s token: %+v %v", name, c, err)
		}
	}
	// Within the 30 s leeway after expiry.
	if _, err := channels.VerifyToken(tenant, keys, tokenNow.Add(time.Hour+20*time.Second)); err != nil {
		t.Fatalf("within leeway: %v", err)
	}

	withClaims := func(mod func(*channels.TokenClaims)) string {
		c := claimsFor("app-a", time.Hour)
		mod(&c)
		return must(channels.SignTenantToken("key-a", "secret-a", c))
	}
	hs256WithPublicKey := func() string {
		tk := jwt.NewWithClaims(jwt.SigningMethodHS256, claimsFor("app-a", time.Hour))
		tk.Header["kid"] = "sk-1"
		return must(tk.SignedString([]byte(pub)))
	}
	algNone := func() string {
		tk := jwt.NewWithClaims(jwt.SigningMethodNone, claimsFor("app-a", time.Hour))
		tk.Header["kid"] = "key-a"
		return must(tk.SignedString(jwt.UnsafeAllowNoneSignatureType))
	}
	tamper := func(tok string, part int) string {
		p := strings.Split(tok, ".")
		b, _ := base64.RawURLEncoding.DecodeString(p[part])
		b[len(b)/2] ^= 1
		p[part] = base64.RawURLEncoding.EncodeToString(b)
		return strings.Join(p, ".")
	}
	cases := map[string]struct {
		tok string
		at  time.Time
	}{
		"expired":                   {tenant, tokenNow.Add(time.Hour + time.Minute)},
		"not yet valid":             {withClaims(func(c *channels.TokenClaims) { c.NotBefore = jwt.NewNumericDate(tokenNow.Add(time.Minute)) }), tokenNow},
		"issued in the future":      {withClaims(func(c *channels.TokenClaims) { c.IssuedAt = jwt.NewNumericDate(tokenNow.Add(time.Minute)) }), tokenNow},
		"no expiry":                 {withClaims(func(c *channels.TokenClaims) { c.ExpiresAt = nil }), tokenNow},
		"lifetime over 24 h":        {withClaims(func(c *channels.TokenClaims) { c.ExpiresAt = jwt.NewNumericDate(tokenNow.Add(25 * time.Hour)) }), tokenNow},
		"no app":                    {withClaims(func(c *channels.TokenClaims) { c.App = "" }), tokenNow},
		"swapped app claim":         {withClaims(func(c *channels.TokenClaims) { c.App = "app-b" }), tokenNow},
		"bad capabilities":          {withClaims(func(c *channels.TokenClaims) { c.Capabilities = channels.Capabilities{"x": {"admin"}} }), tokenNow},
		"unknown kid":               {must(channels.SignTenantToken("key-zz", "secret-a", claimsFor("app-a", time.Hour))), tokenNow},
		"wrong secret":              {must(channels.SignTenantToken("key-a", "secret-b", claimsFor("app-a", time.Hour))), tokenNow},
		"other app's key":           {must(channels.SignTenantToken("key-b", "secret-b", claimsFor("app-a", time.Hour))), tokenNow},
		"alg none":                  {algNone(), tokenNow},
		"HS256 with the public key": {hs256WithPublicKey(), tokenNow},
		"tampered payload":          {tamper(tenant, 1), tokenNow},
		"tampered signature":        {tamper(platform, 2), tokenNow},
		"garbage":                   {"not.a.token", tokenNow},
		"empty":                     {"", tokenNow},
		"huge":                      {strings.Repeat("a", channels.MaxTokenLen+1), tokenNow},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := channels.VerifyToken(c.tok, keys, c.at); !errors.Is(err, channels.ErrToken) {
				t.Fatalf("err = %v, want an invalid-token error", err)
			}
		})
	}
}

func FuzzVerifyToken(f *testing.F) {
	good, _ := channels.SignTenantToken("key-a", "secret-a", claimsFor("app-a", time.Hour))
	for _, s := range []string{good, "a.b.c", "", "eyJhbGciOiJub25lIn0.e30.", good + "x"} {
		f.Add(s)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	keys := keyring{pub: pub}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := channels.VerifyToken(raw, keys, tokenNow)
		if err != nil {
			if !errors.Is(err, channels.ErrToken) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		// Only tokens signed with app-a's secret can pass here.
		if c.App != "app-a" {
			t.Fatalf("accepted a token for %q", c.App)
		}
	})
}

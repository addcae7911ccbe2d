package herald_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldhq/herald/sdk/go/herald"
)

func TestSignTokenClaims(t *testing.T) {
	c, err := herald.New(herald.Config{AppID: "app-1", Key: "key-1", Secret: "secret-1", BaseURL: "http://h"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.SignToken(herald.TokenRequest{
		UserID: "u1", UserInfo: map[string]string{"name": "Ann"}, TTL: 10 * time.Minute,
		Capabilities: herald.Capabilities{"private-chat-*": {herald.OpSubscribe, herald.OpPublish}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		App          string                        `json:"app"`
		UserInfo     map[string]string             `json:"user_info"`
		Capabilities map[string][]herald.Operation `json:"capabilities"`
		jwt.RegisteredClaims
	}
	parsed, err := jwt.ParseWithClaims(tok.Token, &claims, func(*jwt.Token) (any, error) { return []byte("secret-1"), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		t.Fatal(err)
	}
	if kid := parsed.Header["kid"]; kid != "key-1" {
		t.Errorf("kid = %v", kid)
	}
	if claims.App != "app-1" || claims.Subject != "u1" || claims.UserInfo["name"] != "Ann" ||
		len(claims.Capabilities["private-chat-*"]) != 2 {
		t.Errorf("claims = %+v", claims)
	}
	if ttl := claims.ExpiresAt.Sub(claims.IssuedAt.Time); ttl != 10*time.Minute {
		t.Errorf("lifetime %s", ttl)
	}
	if !claims.ExpiresAt.Time.Equal(tok.ExpiresAt) {
		t.Errorf("ExpiresAt %s, exp %s", tok.ExpiresAt, claims.ExpiresAt)
	}
}

// SignToken refuses what the server refuses, as IssueToken's 400 does,
// instead of signing a token that is closed at connect.
func TestSignTokenRefusesWhatTheServerRefuses(t *testing.T) {
	c, err := herald.New(herald.Config{AppID: "app-1", Key: "key-1", Secret: "secret-1", BaseURL: "http://h"})
	if err != nil {
		t.Fatal(err)
	}
	tooMany := herald.Capabilities{}
	for i := range herald.MaxCapabilityPatterns + 1 {
		tooMany[fmt.Sprint("c-", i)] = []herald.Operation{herald.OpSubscribe}
	}
	for name, bad := range map[string]herald.TokenRequest{
		"no capabilities":   {},
		"TTL over 24 h":     {Capabilities: herald.Capabilities{"*": {herald.OpSubscribe}}, TTL: 25 * time.Hour},
		"unknown operation": {Capabilities: herald.Capabilities{"x": {"fly"}}},
		"no operation":      {Capabilities: herald.Capabilities{"x": {}}},
		"empty pattern":     {Capabilities: herald.Capabilities{"": {herald.OpSubscribe}}},
		"invalid character": {Capabilities: herald.Capabilities{"chat room": {herald.OpSubscribe}}},
		"pattern too long":  {Capabilities: herald.Capabilities{strings.Repeat("x", herald.MaxPatternLen+1): {herald.OpSubscribe}}},
		"too many patterns": {Capabilities: tooMany},
	} {
		if _, err := c.SignToken(bad); !errors.Is(err, herald.ErrBadRequest) {
			t.Errorf("%s: SignToken = %v, want ErrBadRequest", name, err)
		}
	}
	ok := herald.Capabilities{"#server-to-user-*": {herald.OpSubscribe}, "presence-*": {herald.OpPresence, herald.OpHistory}}
	if _, err := c.SignToken(herald.TokenRequest{UserID: "u", Capabilities: ok}); err != nil {
		t.Fatalf("valid capabilities refused: %v", err)
	}
}

package channels

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token verification (docs/protocol.md, "Tokens and capabilities"). Tokens
// are JWTs either signed by the control plane (EdDSA, kid = a signing key
// id, public keys published as JWKS) or by the tenant itself (HS256 over an
// app key's secret, kid = the app key). Verification is pure code, so
// gateways do it offline.
const (
	// TokenLeeway is the clock skew tolerated on exp, nbf and iat.
	TokenLeeway = 30 * time.Second
	// MaxTokenLen bounds a token before any parsing.
	MaxTokenLen = 8 << 10
	// MaxTokenTTL is the longest lifetime a token may claim.
	MaxTokenTTL = 24 * time.Hour
	// MaxUserIDLen is the longest user id (a token's sub, a presence
	// member's user_id), in characters (docs/protocol.md, "User ids").
	MaxUserIDLen = 128
)

// TokenClaims are a Herald token's claims.
type TokenClaims struct {
	// KeyID is the kid of the key that verified the token, and
	// TenantSigned says it was an app key (HS256); neither is a claim.
	KeyID        string          `json:"-"`
	TenantSigned bool            `json:"-"`
	App          string          `json:"app"`
	UserInfo     json.RawMessage `json:"user_info,omitempty"`
	Capabilities Capabilities    `json:"capabilities,omitempty"`
	jwt.RegisteredClaims
}

// TokenKeys finds verification keys by kid. Each method only ever returns
// its own kind of key, which is what ties an algorithm to its key type: an
// HS256 token can never be checked against a public key.
type TokenKeys interface {
	// HMACSecret returns the secret of the live app key kid and its app.
	HMACSecret(kid string) (secret []byte, appID string, ok bool)
	// EdDSAKey returns the control plane's public signing key kid.
	EdDSAKey(kid string) (ed25519.PublicKey, bool)
}

// ErrToken is what every refused token matches with errors.Is (any
// CodeUnauthorized error matches it; the message says what was wrong).
var ErrToken = &Error{Code: CodeUnauthorized}

func tokenError(format string, args ...any) error {
	return &Error{Code: CodeUnauthorized, Message: "invalid token: " + fmt.Sprintf(format, args...)}
}

// VerifyToken checks a token's signature, algorithm, key, times and claims
// at now, and returns its claims. A tenant-signed token must name the app
// of the key that signed it.
func VerifyToken(raw string, keys TokenKeys, now time.Time) (*TokenClaims, error) {
	if raw == "" || len(raw) > MaxTokenLen {
		return nil, tokenError("missing or too long")
	}
	var keyApp, keyID string
	parser := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg(), jwt.SigningMethodHS256.Alg()}),
		jwt.WithLeeway(TokenLeeway),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	)
	var claims TokenClaims
	_, err := parser.ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("no kid")
		}
		keyID = kid
		switch t.Method.(type) {
		case *jwt.SigningMethodHMAC:
			secret, app, ok := keys.HMACSecret(kid)
			if !ok {
				return nil, errors.New("unknown kid")
			}
			keyApp = app
			return secret, nil
		case *jwt.SigningMethodEd25519:
			pub, ok := keys.EdDSAKey(kid)
			if !ok {
				return nil, errors.New("unknown kid")
			}
			return pub, nil
		}
		return nil, errors.New("unsupported algorithm")
	})
	if err != nil {
		return nil, tokenError("%v", err)
	}
	switch {
	case claims.App == "":
		return nil, tokenError("no app claim")
	case keyApp != "" && claims.App != keyApp:
		return nil, tokenError("app claim does not match the signing key's app")
	case claims.ExpiresAt.Sub(now) > MaxTokenTTL+TokenLeeway:
		return nil, tokenError("lifetime over %s", MaxTokenTTL)
	}
	if err := claims.Capabilities.Validate(); err != nil {
		return nil, tokenError("%v", err)
	}
	claims.KeyID, claims.TenantSigned = keyID, keyApp != ""
	return &claims, nil
}

// SignTenantToken signs claims as a tenant's backend does: HS256 over the
// secret of app key key, with kid = key.
func SignTenantToken(key, secret string, claims TokenClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	t.Header["kid"] = key
	return t.SignedString([]byte(secret))
}

// SignPlatformToken signs claims with a control-plane EdDSA key.
func SignPlatformToken(kid string, priv ed25519.PrivateKey, claims TokenClaims) (string, error) {
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = kid
	return t.SignedString(priv)
}

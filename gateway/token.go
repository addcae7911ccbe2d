package gateway

import (
	"crypto/ed25519"
	"net/http"
	"strings"

	"github.com/heraldhq/herald/channels"
)

// Token connections (docs/protocol.md, "Tokens and capabilities"): a client
// may connect with a signed token, as ?token=<JWT> or under the path prefix
// /token/<JWT>/app/{key} for clients such as pusher-js that cannot add query
// parameters. The token's capabilities then replace per-channel signatures.

// TokenPathPrefix starts the token form of the WebSocket path.
const TokenPathPrefix = "/token/"

// TokenPath is where the token form of the endpoint must be mounted.
func (g *Gateway) TokenPath() string { return g.cfg.PathPrefix + TokenPathPrefix }

// splitPath returns the app key and the token (if any) of a WebSocket
// request path: {prefix}/app/{key} or {prefix}/token/{jwt}/app/{key}.
func (g *Gateway) splitPath(r *http.Request) (key, token string, ok bool) {
	p := r.URL.Path
	if rest, isToken := strings.CutPrefix(p, g.cfg.PathPrefix+TokenPathPrefix); isToken {
		tok, k, found := strings.Cut(rest, "/app/")
		if !found || tok == "" || k == "" || strings.Contains(k, "/") {
			return "", "", false
		}
		return k, tok, true
	}
	k, found := strings.CutPrefix(p, g.cfg.PathPrefix+"/app/")
	if !found || k == "" || strings.Contains(k, "/") {
		return "", "", false
	}
	return k, queryGet(r.URL.RawQuery, "token"), true
}

// tokenKeys finds token verification keys in the app configs the gateway
// already holds: tenant tokens are checked against app key secrets, so a
// revoked key stops verifying the moment its config changes.
type tokenKeys struct{ g *Gateway }

// HMACSecret implements channels.TokenKeys.
func (k tokenKeys) HMACSecret(kid string) ([]byte, string, bool) {
	app, ok := k.g.cfg.Apps.ByKey(kid)
	if !ok {
		return nil, "", false
	}
	key, ok := app.Key(kid)
	if !ok {
		return nil, "", false
	}
	secret, err := k.g.cfg.Box.Open(key.SealedSecret, channels.SecretAAD(app.ID, kid))
	if err != nil {
		return nil, "", false
	}
	return secret, app.ID, true
}

// EdDSAKey implements channels.TokenKeys with the control plane's live
// signing keys, so a retired key stops verifying the moment the gateway
// sees its removal.
func (k tokenKeys) EdDSAKey(kid string) (ed25519.PublicKey, bool) {
	if k.g.cfg.SigningKeys == nil {
		return nil, false
	}
	return k.g.cfg.SigningKeys.PublicKey(kid)
}

// SigningKeyChanged closes, with 4009, the connections opened with a
// platform token of signing key kid once that key no longer verifies
// (retired). Wire it to the signing key cache.
func (g *Gateway) SigningKeyChanged(kid string) {
	if _, live := (tokenKeys{g: g}).EdDSAKey(kid); live {
		return
	}
	for _, c := range g.allConns() {
		if t := c.claims(); t != nil && !t.TenantSigned && t.KeyID == kid {
			c.fail(channels.PusherUnauthorized, "token signing key retired")
		}
	}
}

// verifyConnToken checks a connection's token against the app of its key.
func (g *Gateway) verifyConnToken(app *channels.AppConfig, raw string) (*channels.TokenClaims, error) {
	claims, err := channels.VerifyToken(raw, tokenKeys{g: g}, g.cfg.Now())
	if err != nil {
		return nil, err
	}
	if claims.App != app.ID {
		return nil, &channels.Error{Code: channels.CodeUnauthorized, Message: "invalid token: issued for another app"}
	}
	return claims, nil
}

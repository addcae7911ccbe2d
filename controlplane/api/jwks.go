package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/internal/cors"
)

// JWKSPath serves the public token signing keys (RFC 7517, OKP keys of RFC
// 8037), for anyone who verifies platform tokens.
const JWKSPath = "/.well-known/jwks.json"

// JWKSMaxAge is how long clients may cache the key set: short, so that a
// retired key drops out of verifiers' caches soon after retirement.
const JWKSMaxAge = time.Minute

// jwk is one Ed25519 public key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

type jwkSet struct {
	Keys []jwk `json:"keys"`
}

// serveJWKS answers any origin: the keys are public, and a browser may
// verify tokens too.
func (a *API) serveJWKS(c echo.Context) error {
	cors.Actual(c.Response().Header(), c.Request(), nil)
	keys, err := a.store.ListSigningKeys(c.Request().Context())
	if err != nil {
		return err
	}
	set := jwkSet{Keys: make([]jwk, 0, len(keys))}
	for _, k := range keys {
		if !k.Live() {
			continue
		}
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(k.PublicKey),
			Kid: k.KID, Use: "sig", Alg: "EdDSA",
		})
	}
	c.Response().Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", int(JWKSMaxAge/time.Second)))
	return c.JSON(http.StatusOK, set)
}

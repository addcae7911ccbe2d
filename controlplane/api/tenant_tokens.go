package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
)

// DefaultTokenTTL is the lifetime of a token when the request names none;
// the longest is channels.MaxTokenTTL.
const DefaultTokenTTL = time.Hour

// tokenRequest is the body of POST /apps/{id}/tokens.
type tokenRequest struct {
	UserID       string          `json:"user_id"`
	UserInfo     json.RawMessage `json:"user_info"`
	Capabilities json.RawMessage `json:"capabilities"`
	// TTLSeconds is the lifetime in seconds; nil means DefaultTokenTTL.
	TTLSeconds *int64 `json:"ttl_s"`
}

// tokenResponse answers POST /apps/{id}/tokens.
type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createAppToken signs a platform token (EdDSA, the active signing key)
// for the app of the authenticated request.
func (a *API) createAppToken(c echo.Context) error {
	app := appOf(c)
	var in tokenRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	claims, err := in.claims(app, a.now())
	if err != nil {
		return err
	}
	signer, err := a.store.ActiveSigner(c.Request().Context())
	if err != nil {
		return err
	}
	tok, err := channels.SignPlatformToken(signer.KID, signer.PrivateKey, claims)
	if err != nil {
		return fmt.Errorf("sign token: %w", err)
	}
	return c.JSON(http.StatusOK, tokenResponse{Token: tok, ExpiresAt: claims.ExpiresAt.UTC()})
}

// claims validates the request against the app's limits (every problem is
// a 400 naming its field) and builds the token's claims.
func (in tokenRequest) claims(app *channels.AppConfig, now time.Time) (channels.TokenClaims, error) {
	ttl := DefaultTokenTTL
	if in.TTLSeconds != nil {
		maxS := int64(channels.MaxTokenTTL / time.Second)
		if *in.TTLSeconds <= 0 || *in.TTLSeconds > maxS {
			return channels.TokenClaims{}, channels.BadRequest("ttl_s", fmt.Sprintf("ttl_s must be 1 to %d seconds", maxS))
		}
		ttl = time.Duration(*in.TTLSeconds) * time.Second
	}
	if in.UserID != "" && (!utf8.ValidString(in.UserID) || utf8.RuneCountInString(in.UserID) > channels.MaxUserIDLen) {
		return channels.TokenClaims{}, channels.BadRequest("user_id", fmt.Sprintf("user_id must be 1 to %d characters", channels.MaxUserIDLen))
	}
	info := in.UserInfo
	if string(info) == "null" {
		info = nil
	}
	if maxInfo := app.Settings.MaxPresenceUserInfoBytes; maxInfo > 0 && len(info) > maxInfo {
		return channels.TokenClaims{}, channels.BadRequest("user_info", fmt.Sprintf("user_info must be at most %d bytes", maxInfo))
	}
	if len(in.Capabilities) == 0 || string(in.Capabilities) == "null" {
		return channels.TokenClaims{}, channels.BadRequest("capabilities", "capabilities is required: an object of pattern: [operations]")
	}
	caps, err := channels.ParseCapabilities(in.Capabilities)
	if err != nil {
		return channels.TokenClaims{}, err
	}
	iat := now.Truncate(time.Second)
	return channels.TokenClaims{
		App: app.ID, UserInfo: info, Capabilities: caps,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   in.UserID,
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(iat.Add(ttl)),
		},
	}, nil
}

package api

import (
	"crypto/ed25519"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/authguard"
)

// requireAppOrToken authenticates a tenant route that clients may call too:
// Authorization: Bearer <token> (a platform or tenant token,
// docs/protocol.md, "Tokens and capabilities") whose capabilities grant op
// on the channel in the path, or else the backend's credentials as
// requireApp checks them. A bad token is 401, a good one without the
// capability 403. A Bearer request is one a browser may send from another
// origin: it gets the CORS headers for the app's allowed_origins, and from
// an origin the app refuses it is 403 (cors.go); a signed one gets none.
func (a *API) requireAppOrToken(op channels.Operation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		backend := a.requireApp(next)
		return func(c echo.Context) error {
			raw, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				return backend(c)
			}
			client := a.guard.Client(c.Request())
			if err := a.throttled(c, client, authguard.KindToken); err != nil {
				return err
			}
			appID := c.Param("app_id")
			app, ok := a.apps.App(appID)
			if !ok {
				return errAppNotFound(appID)
			}
			if err := allowAppOrigin(c, app); err != nil {
				return err
			}
			claims, err := channels.VerifyToken(raw, appTokenKeys{a: a, app: app}, a.now())
			if err == nil && claims.App != app.ID {
				err = &channels.Error{Code: channels.CodeUnauthorized, Message: "invalid token: issued for another app"}
			}
			if err != nil {
				if isUnauthorized(err) {
					a.guard.Failed(client, authguard.KindToken)
				}
				return err
			}
			if !app.Enabled {
				return errAppDisabled(appID)
			}
			ch, err := channelParam(c)
			if err != nil {
				return err
			}
			if !claims.Capabilities.Allows(ch.Name, op) {
				return &channels.Error{Code: channels.CodeForbidden, Message: "the token does not allow " + string(op) + " on this channel"}
			}
			c.Set(ctxApp, app)
			c.Set(ctxBody, []byte(nil))
			return next(c)
		}
	}
}

// appTokenKeys verifies tokens presented for one app: tenant tokens only
// with that app's live keys, platform tokens with the live signing keys.
type appTokenKeys struct {
	a   *API
	app *channels.AppConfig
}

// HMACSecret implements channels.TokenKeys.
func (k appTokenKeys) HMACSecret(kid string) ([]byte, string, bool) {
	key, ok := k.app.Key(kid)
	if !ok {
		return nil, "", false
	}
	secret, err := k.a.box.Open(key.SealedSecret, channels.SecretAAD(k.app.ID, kid))
	if err != nil {
		k.a.logger.Error("cannot open an app key secret: is the master key the same everywhere?", "app", k.app.ID)
		return nil, "", false
	}
	return secret, k.app.ID, true
}

// EdDSAKey implements channels.TokenKeys.
func (k appTokenKeys) EdDSAKey(kid string) (ed25519.PublicKey, bool) {
	if k.a.pubKeys == nil {
		return nil, false
	}
	return k.a.pubKeys.PublicKey(kid)
}

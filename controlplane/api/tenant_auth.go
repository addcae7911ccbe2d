package api

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/authguard"
)

// Context keys of the tenant API.
const (
	ctxApp  = "herald.app"
	ctxBody = "herald.body"
)

// requireApp authenticates a tenant API request for the app in the path:
// Pusher request signing (docs/protocol.md, "Pusher compatibility") or HTTP
// Basic key:secret. The app is looked up first (unknown → 404, disabled →
// 403), from the config KV, never the database. The raw body is read once
// here because the signature covers its MD5. Refused credentials count
// against the client's address (AuthGuard); an address over the limit has
// its credentials answered 429 before anything else.
func (a *API) requireApp(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		client := a.guard.Client(c.Request())
		// Parsed once, by echo, for the credentials check, the signature
		// and c.JSON's ?pretty alike: each parse was a map and a dozen
		// strings per request.
		query := c.QueryParams()
		creds := presentsCredentials(c.Request(), query)
		if creds {
			if err := a.throttled(c, client, authguard.KindREST); err != nil {
				return err
			}
		}
		appID := c.Param("app_id")
		app, ok := a.apps.App(appID)
		if !ok {
			return errAppNotFound(appID)
		}
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return a.decodeError(err)
		}
		c.Request().Body = io.NopCloser(bytes.NewReader(body))
		if err := a.verifyTenant(c.Request(), query, app, body); err != nil {
			if isUnauthorized(err) && creds {
				a.guard.Failed(client, authguard.KindREST)
			}
			return err
		}
		if !app.Enabled {
			return errAppDisabled(appID)
		}
		c.Set(ctxApp, app)
		c.Set(ctxBody, body)
		return next(c)
	}
}

func (a *API) verifyTenant(r *http.Request, q url.Values, app *channels.AppConfig, body []byte) error {
	if key, secret, ok := r.BasicAuth(); ok {
		want, err := a.secretOf(app, key)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
			return &channels.Error{Code: channels.CodeUnauthorized, Message: "invalid key or secret"}
		}
		return nil
	}
	key, err := channels.RequestKey(q)
	if err != nil {
		return err
	}
	secret, err := a.secretOf(app, key)
	if err != nil {
		return err
	}
	// The signed path is /apps/{id}/…, whatever prefix the API is mounted
	// under (docs/protocol.md, "Pusher compatibility").
	path := r.URL.Path
	if i := strings.Index(path, "/apps/"); i > 0 {
		path = path[i:]
	}
	return channels.VerifyRequest(secret, r.Method, path, q, body, a.now())
}

// presentsCredentials reports whether r (whose query is q) carries tenant
// credentials: Basic auth, or a signature's auth_key or auth_signature. A
// request without any guesses nothing, so its 401 is not counted as a
// failure.
func presentsCredentials(r *http.Request, q url.Values) bool {
	if _, _, ok := r.BasicAuth(); ok {
		return true
	}
	for k := range q {
		if strings.EqualFold(k, channels.ParamAuthKey) || strings.EqualFold(k, channels.ParamAuthSignature) {
			return true
		}
	}
	return false
}

// isUnauthorized reports whether err refuses credentials (401), as
// opposed to failing to check them.
func isUnauthorized(err error) bool {
	var ce *channels.Error
	return errors.As(err, &ce) && ce.Code == channels.CodeUnauthorized
}

// secretOf opens the secret of one of the app's live keys. Another app's
// key, a revoked key or an unknown one is 401.
func (a *API) secretOf(app *channels.AppConfig, key string) (string, error) {
	k, ok := app.Key(key)
	if !ok {
		return "", &channels.Error{Code: channels.CodeUnauthorized, Message: "unknown auth_key for this app"}
	}
	secret, err := a.box.Open(k.SealedSecret, channels.SecretAAD(app.ID, key))
	if err != nil {
		a.logger.Error("cannot open an app key secret: is the master key the same everywhere?", "app", app.ID)
		return "", err
	}
	return string(secret), nil
}

// errAppNotFound is the answer for an app id no config names.
func errAppNotFound(appID string) error {
	return &channels.Error{Code: channels.CodeAppNotFound, Message: "app " + appID + " not found"}
}

// errAppDisabled is the answer for an app that is turned off.
func errAppDisabled(appID string) error {
	return &channels.Error{Code: channels.CodeAppDisabled, Message: "app " + appID + " is disabled"}
}

func appOf(c echo.Context) *channels.AppConfig { return c.Get(ctxApp).(*channels.AppConfig) }

func bodyOf(c echo.Context) []byte { return c.Get(ctxBody).([]byte) }

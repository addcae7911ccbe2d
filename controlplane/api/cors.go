package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/internal/cors"
)

// Cross-origin requests (docs/protocol.md, "Cross-origin requests") are
// answered on what a browser may call: the tenant routes that take a
// Bearer token (history), for the origins of the app in the path, and the
// JWKS, for any origin. Signed tenant requests and the admin API need a
// secret, which never belongs in a browser, so they never get a CORS
// header. echo's CORS middleware is not used: its origin check sees only
// the origin, not the request, so it cannot ask the app in the path.

// errOriginRefused answers a request or a preflight from an origin the
// app does not list in allowed_origins.
var errOriginRefused = &channels.Error{Code: channels.CodeForbidden, Message: "origin not allowed"}

// allowAppOrigin sets the CORS headers of a Bearer request to app's route;
// a request from an origin the app refuses is refused.
func allowAppOrigin(c echo.Context, app *channels.AppConfig) error {
	if !cors.Actual(c.Response().Header(), c.Request(), app.Settings.AllowsOrigin) {
		return errOriginRefused
	}
	return nil
}

// appPreflight answers the preflight of a route that serves methods to
// Bearer clients, for the origins of the app in the path. A preflight
// carries no credentials, so the app is not authenticated: the answer
// says only whether the origin may try.
func (a *API) appPreflight(methods ...string) echo.HandlerFunc {
	return func(c echo.Context) error {
		appID := c.Param("app_id")
		app, ok := a.apps.App(appID)
		if !ok {
			return errAppNotFound(appID)
		}
		return preflight(c, methods, app.Settings.AllowsOrigin)
	}
}

// publicPreflight answers the preflight of a public document, for any
// origin.
func publicPreflight(methods ...string) echo.HandlerFunc {
	return func(c echo.Context) error { return preflight(c, methods, nil) }
}

// preflight answers an OPTIONS request: a preflight with 204 and the CORS
// headers, or 403 when its origin or method is refused; a plain OPTIONS
// (no Origin) with 204 and Allow, as echo answers it on other routes.
func preflight(c echo.Context, methods []string, allowed cors.Origins) error {
	h := c.Response().Header()
	if !cors.IsPreflight(c.Request()) {
		h.Set(echo.HeaderAllow, strings.Join(append(slices.Clip(methods), http.MethodOptions), ", "))
		return c.NoContent(http.StatusNoContent)
	}
	if !cors.Preflight(h, c.Request(), methods, allowed) {
		return errOriginRefused
	}
	return c.NoContent(http.StatusNoContent)
}

package api

import "github.com/labstack/echo/v4"

// meterRequest counts an authenticated tenant request for its app's
// api_requests (docs/billing.md): it runs after the authentication
// middleware, so refused requests never reach it, and counts whatever the
// handler then answers.
func (a *API) meterRequest(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		a.meter.App(appOf(c).ID).APIRequest()
		return next(c)
	}
}

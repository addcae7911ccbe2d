package api

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
)

// getOwnUsage answers GET /apps/{id}/usage: an app reads its own usage
// with its key, as the admin API's GET /admin/v1/apps/{id}/usage answers.
func (a *API) getOwnUsage(c echo.Context) error {
	app := appOf(c)
	id := app.ID
	return a.serveUsage(c, app.AccountID, func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error) {
		return a.store.AppUsage(c.Request().Context(), id, r)
	})
}

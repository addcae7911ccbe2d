package api

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
)

// getOwnUsage answers GET /apps/{id}/usage: an app reads its own usage
// with its key, as the admin API's GET /admin/v1/apps/{id}/usage answers.
func (a *API) getOwnUsage(c echo.Context) error {
	// The config's settings are already lowered by the plan; the limits
	// they give are those of the app's own settings (Limits.ForApp).
	app := appOf(c)
	id := app.ID
	return a.serveUsage(c, func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error) {
		return a.store.AppUsage(c.Request().Context(), id, r)
	}, usageScope{accountID: app.AccountID, settings: &app.Settings})
}

package api

import (
	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
)

// getAppUsage answers GET /admin/v1/apps/{id}/usage; an unknown app is a
// 404, although usage outlives deleted apps in their account's totals.
func (a *API) getAppUsage(c echo.Context) error {
	id := c.Param("id")
	app, err := a.store.GetApp(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return a.serveUsage(c, func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error) {
		return a.store.AppUsage(c.Request().Context(), id, r)
	}, usageScope{accountID: app.AccountID, settings: &app.Settings})
}

// getAccountUsage answers GET /admin/v1/accounts/{id}/usage: the sums
// over the account's apps, deleted ones included.
func (a *API) getAccountUsage(c echo.Context) error {
	id := c.Param("id")
	if _, err := a.store.GetAccount(c.Request().Context(), id); err != nil {
		return err
	}
	return a.serveUsage(c, func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error) {
		return a.store.AccountUsage(c.Request().Context(), id, r)
	}, usageScope{accountID: id})
}

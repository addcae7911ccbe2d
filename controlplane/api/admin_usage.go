package api

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/controlplane"
)

// getAppUsage answers GET /admin/v1/apps/{id}/usage; an unknown app is a
// 404, although usage outlives deleted apps in their account's totals.
func (a *API) getAppUsage(c echo.Context) error {
	return serveUsageOf(a, c, a.store.GetApp, func(app controlplane.App) string { return app.AccountID }, a.store.AppUsage)
}

// getAccountUsage answers GET /admin/v1/accounts/{id}/usage: the sums
// over the account's apps, deleted ones included.
func (a *API) getAccountUsage(c echo.Context) error {
	return serveUsageOf(a, c, a.store.GetAccount, func(acct controlplane.Account) string { return acct.ID }, a.store.AccountUsage)
}

// serveUsageOf answers the usage of the app or account in the path, once
// find has shown that it exists.
func serveUsageOf[T any](a *API, c echo.Context,
	find func(context.Context, string) (T, error),
	accountOf func(T) string,
	read func(context.Context, string, controlplane.UsageRange) ([]billing.Period, error),
) error {
	id := c.Param("id")
	found, err := find(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return a.serveUsage(c, accountOf(found), func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error) {
		return read(c.Request().Context(), id, r)
	})
}

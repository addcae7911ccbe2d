package api

import (
	"errors"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/billing"
	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// getAppUsage answers GET /admin/v1/apps/{id}/usage. Usage is billing
// data and outlives the app (docs/billing.md, "Flushes"): a deleted app's
// usage is read by its id, with the account its usage rows name (its
// plan's limits as the account's, no app settings to lower them); an id
// that is no app and has no usage is a 404.
func (a *API) getAppUsage(c echo.Context) error {
	id := c.Param("id")
	ctx := c.Request().Context()
	scope := usageScope{}
	app, err := a.store.GetApp(ctx, id)
	var ce *channels.Error
	switch {
	case err == nil:
		scope = usageScope{accountID: app.AccountID, settings: &app.Settings}
	case errors.As(err, &ce) && ce.Code == channels.CodeNotFound:
		account, found, uerr := a.store.UsageAccount(ctx, id)
		if uerr != nil {
			return uerr
		}
		if !found {
			return err
		}
		scope.accountID = account
	default:
		return err
	}
	return a.serveUsage(c, func(c echo.Context, r controlplane.UsageRange) ([]billing.Period, error) {
		return a.store.AppUsage(c.Request().Context(), id, r)
	}, scope)
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

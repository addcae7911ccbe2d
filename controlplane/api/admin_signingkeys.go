package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/controlplane"
)

func (a *API) listSigningKeys(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	keys, err := a.store.ListSigningKeys(c.Request().Context())
	if err != nil {
		return err
	}
	page, next, err := pageOf(keys, func(k controlplane.SigningKey) string { return k.KID }, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(page, next))
}

func (a *API) rotateSigningKey(c echo.Context) error {
	k, err := a.store.RotateSigningKey(c.Request().Context())
	if err != nil {
		return err
	}
	a.audit(c, "signing_key.rotate", k.KID, nil)
	a.syncSigningKeys(c)
	return c.JSON(http.StatusCreated, k)
}

func (a *API) retireSigningKey(c echo.Context) error {
	kid := c.Param("kid")
	if err := a.store.RetireSigningKey(c.Request().Context(), kid); err != nil {
		return err
	}
	a.audit(c, "signing_key.retire", kid, nil)
	a.syncSigningKeys(c)
	return c.NoContent(http.StatusNoContent)
}

// syncSigningKeys copies the live signing keys to the gateways after a
// change; like syncApp, a failure is logged and left to the periodic
// reconcile.
func (a *API) syncSigningKeys(c echo.Context) {
	if a.keyPublisher == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), a.syncTimeout)
	defer cancel()
	if err := a.keyPublisher.SyncSigningKeys(ctx); err != nil {
		a.logger.Warn("signing key sync failed; the periodic reconcile will publish it",
			"request_id", requestIDOf(c), "err", err)
	}
}

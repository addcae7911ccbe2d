package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

func (a *API) listAudit(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	items, next, err := a.store.ListAudit(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(items, next))
}

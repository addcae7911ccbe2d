package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// createAccountRequest is the body of POST /admin/v1/accounts.
type createAccountRequest struct {
	Name string `json:"name"`
}

func (a *API) createAccount(c echo.Context) error {
	var in createAccountRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	acct, err := a.store.CreateAccountOnPlan(c.Request().Context(), in.Name, a.defaultPlan)
	if err != nil {
		return err
	}
	a.audit(c, "account.create", acct.ID, in)
	return c.JSON(http.StatusCreated, acct)
}

func (a *API) listAccounts(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	items, next, err := a.store.ListAccounts(c.Request().Context(), p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(items, next))
}

func (a *API) getAccount(c echo.Context) error {
	acct, err := a.store.GetAccount(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acct)
}

func (a *API) deleteAccount(c echo.Context) error {
	id := c.Param("id")
	if err := a.store.DeleteAccount(c.Request().Context(), id); err != nil {
		return err
	}
	a.audit(c, "account.delete", id, nil)
	return c.NoContent(http.StatusNoContent)
}

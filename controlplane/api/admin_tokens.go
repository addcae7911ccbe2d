package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/controlplane"
)

// createTokenRequest is the body of POST /admin/v1/tokens.
type createTokenRequest struct {
	Name string `json:"name"`
}

// createdToken answers POST /admin/v1/tokens: the only time the token
// itself is shown.
type createdToken struct {
	Token string `json:"token"`
	controlplane.AdminToken
}

func (a *API) createToken(c echo.Context) error {
	var in createTokenRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	token, info, err := a.store.CreateAdminToken(c.Request().Context(), in.Name)
	if err != nil {
		return err
	}
	a.audit(c, "token.create", info.ID, in)
	return c.JSON(http.StatusCreated, createdToken{Token: token, AdminToken: info})
}

func (a *API) listTokens(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	tokens, err := a.store.ListAdminTokens(c.Request().Context())
	if err != nil {
		return err
	}
	page, next, err := pageOf(tokens, func(t controlplane.AdminToken) string { return t.ID }, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(page, next))
}

func (a *API) revokeToken(c echo.Context) error {
	id := c.Param("id")
	if err := a.store.RevokeAdminToken(c.Request().Context(), id); err != nil {
		return err
	}
	a.audit(c, "token.revoke", id, nil)
	return c.NoContent(http.StatusNoContent)
}

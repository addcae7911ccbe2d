package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/controlplane"
)

// createKeyRequest is the optional body of POST /admin/v1/apps/{id}/keys.
// Both fields are normally omitted and generated; giving them imports
// credentials from another Pusher-compatible service.
type createKeyRequest struct {
	Key    string `json:"key,omitempty"`
	Secret string `json:"secret,omitempty"`
}

// keyAuditDetails is what the audit log keeps of a key change: never the
// secret.
type keyAuditDetails struct {
	AppID    string `json:"app_id"`
	Imported bool   `json:"imported,omitempty"`
}

func (a *API) createKey(c echo.Context) error {
	var in createKeyRequest
	if err := a.decodeJSON(c, &in, true); err != nil {
		return err
	}
	appID := c.Param("id")
	k, err := a.store.CreateKey(c.Request().Context(), appID, in.Key, in.Secret)
	if err != nil {
		return err
	}
	a.audit(c, "key.create", k.Key.Key, keyAuditDetails{AppID: appID, Imported: in.Secret != ""})
	a.syncApp(c, appID)
	return c.JSON(http.StatusCreated, k)
}

func (a *API) listKeys(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	keys, err := a.store.ListKeys(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	page, next, err := pageOf(keys, func(k controlplane.Key) string { return k.Key }, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(page, next))
}

func (a *API) revokeKey(c echo.Context) error {
	appID, key := c.Param("id"), c.Param("key")
	if err := a.store.RevokeKey(c.Request().Context(), appID, key); err != nil {
		return err
	}
	a.audit(c, "key.revoke", key, keyAuditDetails{AppID: appID})
	a.syncApp(c, appID)
	return c.NoContent(http.StatusNoContent)
}

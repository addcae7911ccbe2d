package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/channels"
	"github.com/heraldhq/herald/controlplane"
)

// createAppRequest is the body of POST /admin/v1/apps. Settings is a
// partial object over channels.DefaultSettings.
type createAppRequest struct {
	AccountID string                  `json:"account_id"`
	Name      string                  `json:"name"`
	ID        string                  `json:"id,omitempty"`
	Settings  *channels.SettingsPatch `json:"settings,omitempty"`
}

// updateAppRequest is the body of PATCH /admin/v1/apps/{id}: absent fields,
// settings included one by one, are left as they are.
type updateAppRequest struct {
	Name     *string                 `json:"name,omitempty"`
	Enabled  *bool                   `json:"enabled,omitempty"`
	Settings *channels.SettingsPatch `json:"settings,omitempty"`
}

func (a *API) createApp(c echo.Context) error {
	var in createAppRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	na := controlplane.NewApp{ID: in.ID, AccountID: in.AccountID, Name: in.Name}
	if in.Settings != nil {
		na.Settings = *in.Settings
	}
	app, err := a.store.CreateApp(c.Request().Context(), na)
	if err != nil {
		return err
	}
	a.audit(c, "app.create", app.ID, in)
	a.syncApp(c, app.ID)
	return c.JSON(http.StatusCreated, app)
}

func (a *API) listApps(c echo.Context) error {
	p, err := parsePage(c)
	if err != nil {
		return err
	}
	f := controlplane.AppFilter{AccountID: c.QueryParam("account_id"), Search: c.QueryParam("q")}
	items, next, err := a.store.ListApps(c.Request().Context(), f, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newList(items, next))
}

func (a *API) getApp(c echo.Context) error {
	app, err := a.store.GetApp(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, app)
}

func (a *API) updateApp(c echo.Context) error {
	var in updateAppRequest
	if err := a.decodeJSON(c, &in, false); err != nil {
		return err
	}
	id := c.Param("id")
	patch := controlplane.AppPatch{Name: in.Name, Enabled: in.Enabled}
	if in.Settings != nil {
		patch.Settings = *in.Settings
	}
	if in.Name == nil && in.Enabled == nil && patch.Settings == (channels.SettingsPatch{}) {
		// Nothing to change: answer the app as it is, with nothing to
		// audit or publish.
		return a.getApp(c)
	}
	app, err := a.store.UpdateApp(c.Request().Context(), id, patch)
	if err != nil {
		return err
	}
	a.audit(c, "app.update", id, in)
	a.syncApp(c, id)
	return c.JSON(http.StatusOK, app)
}

func (a *API) deleteApp(c echo.Context) error {
	id := c.Param("id")
	if err := a.store.DeleteApp(c.Request().Context(), id); err != nil {
		return err
	}
	a.audit(c, "app.delete", id, nil)
	// Syncing a deleted app removes its entry, so gateways drop it.
	a.syncApp(c, id)
	return c.NoContent(http.StatusNoContent)
}

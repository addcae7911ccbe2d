package api

import "net/http"

// tenantRoutes is the Pusher HTTP API (PUSHER.md §3), authenticated per
// app by requireApp.
func (a *API) tenantRoutes() []route {
	return []route{
		{method: http.MethodPost, path: "/apps/:app_id/events", id: "triggerEvent", handler: a.triggerEvent},
	}
}

package api

import (
	"net/http"

	"github.com/heraldhq/herald/channels"
)

// tenantRoutes is the Pusher HTTP API (docs/protocol.md,
// "Pusher compatibility") and Herald's additions (history, tokens),
// authenticated per app by requireApp.
func (a *API) tenantRoutes() []route {
	return []route{
		{method: http.MethodPost, path: "/apps/:app_id/events", id: "triggerEvent", handler: a.triggerEvent},
		{method: http.MethodPost, path: "/apps/:app_id/batch_events", id: "triggerBatch", handler: a.triggerBatch},
		{method: http.MethodGet, path: "/apps/:app_id/channels", id: "listChannels", handler: a.listChannels},
		{method: http.MethodGet, path: "/apps/:app_id/channels/:channel_name", id: "getChannel", handler: a.getChannel},
		{method: http.MethodGet, path: "/apps/:app_id/channels/:channel_name/users", id: "getChannelUsers", handler: a.getChannelUsers},
		{method: http.MethodGet, path: "/apps/:app_id/channels/:channel_name/messages", id: "listMessages",
			tokenOp: channels.OpHistory, handler: a.listMessages},
		{method: http.MethodPost, path: "/apps/:app_id/tokens", id: "createAppToken", handler: a.createAppToken},
		{method: http.MethodGet, path: "/apps/:app_id/usage", id: "getOwnUsage", handler: a.getOwnUsage},
		{method: http.MethodPost, path: "/apps/:app_id/users/:user_id/terminate_connections", id: "terminateConnections", handler: a.terminateConnections},
	}
}

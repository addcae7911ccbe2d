package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/heraldhq/herald/controlplane"
)

// The admin API's app operations: what an app's own backend does through
// the tenant API (publish, channel queries, history, terminating a user's
// connections), done by an operator with the admin token, so the console
// needs no app secret (secrets are shown once). Each route runs the tenant
// route's handler on the app in the path, so answers and errors are the
// tenant API's.

// appOpsTag groups the app operations in the OpenAPI document.
const appOpsTag = "app-operations"

// appOpsRoutes is the route table of the app operations.
func (a *API) appOpsRoutes() []route {
	if a.apps == nil {
		return nil // no config cache: the tenant handlers cannot run
	}
	base := adminPrefix + "/apps/:id"
	ch := base + "/channels/:channel_name"
	return []route{
		{method: http.MethodPost, path: base + "/events", id: "adminTriggerEvent", tag: appOpsTag,
			summary: "Publish an event to one or more of the app's channels, as POST /apps/{id}/events does (same body and answer, idempotency_key or the Idempotency-Key header honoured, the app's quotas apply). Recorded in the audit log with the channels and event name, never the data.",
			status:  http.StatusOK, request: typeOf[triggerRequest](), response: typeOf[triggerResponse](),
			handler: a.withAdminApp(a.auditedTrigger)},
		{method: http.MethodGet, path: base + "/channels", id: "adminListChannels", tag: appOpsTag,
			summary: "The app's occupied channels, as GET /apps/{id}/channels.", status: http.StatusOK,
			query: []queryParam{
				{name: "filter_by_prefix", description: "Only channels whose names start with this."},
				{name: "info", description: "Comma-separated attributes: user_count (presence- prefix only), subscription_count."},
			},
			response: typeOf[channelsResponse](), handler: a.withAdminApp(a.listChannels)},
		{method: http.MethodGet, path: ch, id: "adminGetChannel", tag: appOpsTag,
			summary: "One channel's state, as GET /apps/{id}/channels/{channel_name}.", status: http.StatusOK,
			query:    []queryParam{{name: "info", description: "Comma-separated attributes: user_count, subscription_count, cache."}},
			response: typeOf[channelResponse](), handler: a.withAdminApp(a.getChannel)},
		{method: http.MethodGet, path: ch + "/users", id: "adminGetChannelUsers", tag: appOpsTag,
			summary: "A presence channel's users, as GET /apps/{id}/channels/{channel_name}/users.", status: http.StatusOK,
			response: typeOf[usersResponse](), handler: a.withAdminApp(a.getChannelUsers)},
		{method: http.MethodGet, path: ch + "/messages", id: "adminListMessages", tag: appOpsTag,
			summary: "A channel's message history, as GET /apps/{id}/channels/{channel_name}/messages (same query parameters and cursor; the Link header points at this route).",
			status:  http.StatusOK, query: historyParamsDoc(), response: typeOf[historyResponse](),
			handler: a.withAdminApp(a.listMessages)},
		{method: http.MethodPost, path: base + "/users/:user_id/terminate_connections", id: "adminTerminateConnections", tag: appOpsTag,
			summary: "Close the user's connections on every gateway (signed in as the user, or opened with a token whose sub is the user), as POST /apps/{id}/users/{user_id}/terminate_connections. Recorded in the audit log.",
			status:  http.StatusOK, requestOptional: true, freeForm: true,
			handler: a.withAdminApp(a.auditedTerminate)},
	}
}

// historyParamsDoc describes the history route's query parameters
// (docs/protocol.md, "History API").
func historyParamsDoc() []queryParam {
	return []queryParam{
		{name: paramLimit, description: fmt.Sprintf("Page size, 1 to %d (default %d).", controlplane.MaxHistoryLimit, controlplane.DefaultHistoryLimit), integer: true},
		{name: paramDirection, description: "backwards (newest first, the default) or forwards."},
		{name: paramFromSerial, description: "Only messages after this serial, in the direction asked.", integer: true},
		{name: paramStart, description: "Only messages published at or after this time, Unix milliseconds.", integer: true},
		{name: paramEnd, description: "Only messages published at or before this time, Unix milliseconds.", integer: true},
		{name: paramCursor, description: "The next of the previous page."},
	}
}

// withAdminApp runs a tenant handler for the app in the path of an admin
// route (the admin token was checked before): the app comes from the config
// cache, as for the tenant API, so an unknown app is 404 and a disabled one
// 403, and the body is read once as the handlers expect.
func (a *API) withAdminApp(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		appID := c.Param("id")
		app, ok := a.apps.App(appID)
		if !ok {
			return errAppNotFound(appID)
		}
		if !app.Enabled {
			return errAppDisabled(appID)
		}
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return a.decodeError(err)
		}
		c.Set(ctxApp, app)
		c.Set(ctxBody, body)
		return next(c)
	}
}

// publishAudit is what the audit log keeps of an operator's publish: where
// and what, never the data.
type publishAudit struct {
	Event    string   `json:"event"`
	Channels []string `json:"channels"`
}

// auditedTrigger publishes, then records the publish when it succeeded.
func (a *API) auditedTrigger(c echo.Context) error {
	if err := a.triggerEvent(c); err != nil {
		return err
	}
	// The body parsed, since the publish succeeded.
	var in triggerRequest
	_ = json.Unmarshal(bodyOf(c), &in)
	chs := in.Channels
	if in.Channel != "" {
		chs = append([]string{in.Channel}, chs...)
	}
	a.audit(c, "app.publish", appOf(c).ID, publishAudit{Event: in.Name, Channels: chs})
	return nil
}

// auditedTerminate terminates, then records it when it succeeded.
func (a *API) auditedTerminate(c echo.Context) error {
	if err := a.terminateConnections(c); err != nil {
		return err
	}
	userID, _ := pathParam(c, "user_id") // checked by the handler
	a.audit(c, "app.user.terminate", appOf(c).ID, map[string]string{"user_id": userID})
	return nil
}
